import DocumentStore

/// A query string split into decoded `(name, value)` pairs, in order. `+` is a space
/// (as jQuery's `$.param` writes it); a bad percent escape, invalid UTF-8 or a NUL
/// (`%00`) is an error. A NUL would reach C as the end of the string: SQLite would bind
/// `a%00b` as `a`, and a path segment would name another document.
enum QueryString {
    /// Where the encoded text came from, for the error: its words and its code.
    enum Source {
        case query, path, form

        var words: String {
            switch self {
            case .query: "the query string"
            case .path: "the path"
            case .form: "the form body"
            }
        }

        var code: String { self == .form ? "bad_body" : "bad_request" }
    }

    static func parse(_ raw: Substring, from source: Source = .query) throws(APIError) -> [(name: String, value: String)] {
        var raw = raw
        return try raw.withUTF8 { bytes in Result { () throws(APIError) in try parse(bytes, from: source) } }.get()
    }

    /// On the bytes: indexing a `Substring`'s UTF-8 view cost some 2,500 instructions a
    /// parameter, on every list request.
    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>, from source: Source) throws(APIError) -> [(name: String, value: String)]
    {
        var pairs: [(name: String, value: String)] = []
        var start = 0
        while start < bytes.count {
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "&") { end += 1 }
            if end > start {
                var equals = start
                while equals < end, bytes[equals] != UInt8(ascii: "=") { equals += 1 }
                let name = try decode(UnsafeBufferPointer(rebasing: bytes[start..<equals]), from: source)
                let value = equals < end ? try decode(UnsafeBufferPointer(rebasing: bytes[(equals + 1)..<end]), from: source) : ""
                pairs.append((name, value))
            }
            start = end + 1
        }
        return pairs
    }

    static func decode(_ s: Substring, from source: Source = .query) throws(APIError) -> String {
        var s = s
        return try s.withUTF8 { bytes in Result { () throws(APIError) in try decode(bytes, from: source) } }.get()
    }

    /// `bytes` are valid UTF-8 (a Swift string's), cut at ASCII separators.
    private static func decode(_ bytes: UnsafeBufferPointer<UInt8>, from source: Source) throws(APIError) -> String {
        if !bytes.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 == 0 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "+") {
                decoded.append(0x20)
            } else if b == UInt8(ascii: "%") {
                guard i + 2 < bytes.count, let hi = hex(bytes[i + 1]), let lo = hex(bytes[i + 2]) else { throw badEscape(source) }
                decoded.append(hi << 4 | lo)
                i += 2
            } else {
                decoded.append(b)
            }
            i += 1
        }
        if decoded.contains(0) {
            throw .badRequest("\(source.words) contains a NUL character (%00)", code: source.code)
        }
        guard let text = String(utf8Validating: decoded) else {
            throw .badRequest("\(source.words) is not valid UTF-8", code: source.code)
        }
        return text
    }

    private static func badEscape(_ source: Source) -> APIError {
        .badRequest("bad percent-escape in \(source.words)", code: source.code)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
