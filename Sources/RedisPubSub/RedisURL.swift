/// Where Redis is: `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`. The user and password
/// are percent-decoded; `HOST` may be an IPv6 literal in brackets. `description` never
/// shows the password (it goes into logs and error messages).
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var database: Int
    /// An ACL user (Redis 6+): `AUTH user password`; nil sends `AUTH password`.
    public var user: String?
    public var password: String?

    public init(host: String, port: Int = 6379, database: Int = 0, user: String? = nil, password: String? = nil) {
        self.host = host
        self.port = port
        self.database = database
        self.user = user
        self.password = password
    }

    public init(parsing text: String) throws(RedisURLError) {
        let scheme = "redis://"
        guard text.lowercased().hasPrefix(scheme) else {
            let given = text.firstRange(of: "://").map { String(text[..<$0.lowerBound]) }
            throw .scheme(given)
        }
        var rest = Substring(text.dropFirst(scheme.count))
        if rest.contains(where: { $0 == "?" || $0 == "#" }) { throw .queryOrFragment }
        var path: Substring = ""
        if let slash = rest.firstIndex(of: "/") {
            path = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
        }
        // The last "@" ends the credentials: a password may hold a raw "@".
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            guard let colon = credentials.firstIndex(of: ":") else { throw .credentialsWithoutPassword }
            let user = try Self.percentDecoded(credentials[..<colon])
            self.user = user.isEmpty ? nil : user
            password = try Self.percentDecoded(credentials[credentials.index(after: colon)...])
        }
        (host, port) = try Self.hostAndPort(rest)
        if path.isEmpty {
            database = 0
        } else if let number = Int(path), number >= 0, path.allSatisfy(\.isASCII) {
            database = number
        } else {
            throw .database(String(path))
        }
    }

    public var description: String {
        let credentials = password == nil ? "" : "\(user ?? ""):***@"
        let host = host.contains(":") ? "[\(host)]" : host
        return "redis://\(credentials)\(host):\(port)/\(database)"
    }

    private static func hostAndPort(_ text: Substring) throws(RedisURLError) -> (String, Int) {
        var host = text
        var portText: Substring?
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else { throw .host }
            host = text[text.index(after: text.startIndex)..<close]
            let after = text[text.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw .host }
                portText = after.dropFirst()
            }
        } else if let colon = text.lastIndex(of: ":") {
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains(where: { $0 == "@" || $0 == " " }) else { throw .host }
        guard let portText else { return (String(host), 6379) }
        guard let port = Int(portText), (1...65535).contains(port), portText.allSatisfy(\.isASCII) else {
            throw .port(String(portText))
        }
        return (String(host), port)
    }

    private static func percentDecoded(_ text: Substring) throws(RedisURLError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else {
                throw .percentEscape
            }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Why a `redis://` URL was refused. The messages quote only the faulty part, never the
/// password; the server prefixes them with the flag's name.
public enum RedisURLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not `redis://` (the scheme given, if any; `rediss://`, TLS, is not supported).
    case scheme(String?)
    case host
    case port(String)
    case database(String)
    case credentialsWithoutPassword
    case percentEscape
    case queryOrFragment

    public var description: String {
        switch self {
        case .scheme(let given?): "the scheme must be redis://, not \(given)://"
        case .scheme(nil): "expected redis://[:PASSWORD@]HOST[:PORT][/DB]"
        case .host: "the host is missing or malformed (redis://HOST[:PORT][/DB]; IPv6 in brackets)"
        case .port(let port): "the port must be a number from 1 to 65535, not \"\(port)\""
        case .database(let db): "the database must be a number (/0, /1, …), not \"\(db)\""
        case .credentialsWithoutPassword: "credentials need a colon: redis://:PASSWORD@HOST or redis://USER:PASSWORD@HOST"
        case .percentEscape: "a percent escape in the credentials is malformed"
        case .queryOrFragment: "query options and fragments are not supported"
        }
    }
}
