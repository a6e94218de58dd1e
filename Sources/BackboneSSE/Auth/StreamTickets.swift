import Crypto
import DocumentStore
import Foundation

/// Stream tickets (DESIGN.md §5): `EventSource` cannot send headers, so a client trades
/// its bearer token (`POST /auth/ticket`) for a short-lived ticket that opens streams
/// as `?ticket=`.
///
/// A ticket is `bbst1.<payload>.<mac>`: base64url JSON and the HMAC-SHA256 of
/// everything before the last dot, under the ticket key. It is not a JWT and is
/// checked on a path of its own, so neither can stand for the other: the prefix cannot
/// start a JWT (whose header is base64url JSON, `eyJ…`), `TokenVerifier` refuses
/// anything with the prefix, the payload names its `typ`, and the ticket key is not a
/// token key (`AuthConfigLoader` refuses the JWT secret). The payload carries what a
/// stream needs and nothing the client could not already read from its own token: the
/// subject, the roles and the token's expiry (a stream lives as long as its token).
public final class StreamTickets: Sendable {
    static let prefix = "bbst1."
    static let type = "backbone-sse/stream-ticket"
    /// How long a ticket opens streams.
    static let lifetime: TimeInterval = 60
    /// Tickets longer than this are refused unread.
    static let maxBytes = 8192

    private let key: SymmetricKey

    /// Signs and checks with `secret` (at least 32 bytes: `auth.ticket_secret_env`).
    public init(secret: [UInt8]) {
        key = SymmetricKey(data: secret)
    }

    /// A key of this process only: tickets open streams only where they were issued.
    public static func random() -> StreamTickets {
        StreamTickets(secret: Array(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }))
    }

    /// A ticket for `identity`, good for 60 s or until the token expires, whichever is first.
    func issue(for identity: Identity, now: Date = Date()) -> (ticket: String, expires: Date) {
        let expires = min(now.addingTimeInterval(Self.lifetime), identity.expires)
        var payload = JSONObject()
        payload["typ"] = .string(Self.type)
        payload["sub"] = .string(identity.subject)
        payload["roles"] = .array(identity.roles.sorted().map(JSON.string))
        payload["exp"] = .int(Self.milliseconds(expires))
        payload["texp"] = .int(Self.milliseconds(identity.expires))
        let signed = Self.prefix + Self.base64url(Data(JSON.object(payload).serializedBytes))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(signed.utf8), using: key)
        return (signed + "." + Self.base64url(Data(mac)), Self.date(Self.milliseconds(expires)))
    }

    /// The identity a ticket stands for, when its MAC is this key's and it has not expired.
    func verify(_ ticket: String, now: Date = Date()) -> Result<Identity, Unauthenticated> {
        let bad = Unauthenticated("the ticket is not good: fetch a new one with POST /auth/ticket")
        guard ticket.utf8.count <= Self.maxBytes, ticket.hasPrefix(Self.prefix), let dot = ticket.lastIndex(of: "."),
            let mac = Self.decode(ticket[ticket.index(after: dot)...])
        else { return .failure(bad) }
        let signed = ticket[..<dot]
        // Constant time (swift-crypto): a MAC guessed byte by byte learns nothing.
        guard HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(signed.utf8), using: key) else {
            return .failure(bad)
        }
        guard let bytes = Self.decode(signed.dropFirst(Self.prefix.count)), let payload = try? JSONParser.parse(Array(bytes)),
            case .object(let claims) = payload, claims["typ"] == .string(Self.type),
            case .string(let subject)? = claims["sub"], !subject.isEmpty, case .array(let roleValues)? = claims["roles"],
            case .int(let expires)? = claims["exp"], case .int(let tokenExpires)? = claims["texp"]
        else { return .failure(bad) }
        guard Self.date(expires) > now else { return .failure(Unauthenticated("the ticket has expired: fetch a new one")) }
        guard Self.date(tokenExpires) > now else { return .failure(Unauthenticated("the token behind the ticket has expired")) }
        var roles: Set<String> = []
        for case .string(let role) in roleValues { roles.insert(role) }
        return .success(Identity(subject: subject, roles: roles, expires: Self.date(tokenExpires)))
    }

    // MARK: Encoding

    private static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    private static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// base64url without padding; nil for anything else (padding, `+`, `/`, other bytes).
    static func decode(_ text: Substring) -> Data? {
        var padded = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while padded.utf8.count % 4 != 0 { padded += "=" }
        // Only the one spelling of the bytes: a decoder that ignores a last character's
        // spare bits would let two texts stand for one ticket.
        guard let data = Data(base64Encoded: padded), base64url(data) == text else { return nil }
        return data
    }
}
