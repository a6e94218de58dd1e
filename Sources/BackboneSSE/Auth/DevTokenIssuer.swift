import Foundation
import JWTKit

/// `serve --dev-tokens`: signs a token for whatever name a request asks, with the
/// config's HMAC key (`auth.jwt.secret_env`), so that the example app and a developer's
/// curl can sign in without an identity provider. Anyone who can reach the server can
/// then be anyone: a development aid, never for a server that holds real users' data
/// (the server says so at start).
///
/// The tokens are ordinary HS256 JWTs, with the configured `iss` and `aud`: they pass
/// the same verification as a provider's, and nothing else in the server knows where
/// they came from.
public final class DevTokenIssuer: Sendable {
    private let keys: JWTKeyCollection
    private let loaded: Task<Void, Never>
    private let issuer: String?
    private let audience: String?
    private let rolesClaim: String

    /// A token lives this long unless the request asks for less.
    static let defaultLifetime = 3600
    /// And at most this long.
    static let maxLifetime = 86_400

    /// Nil when the config has no HMAC key of 32 bytes or more to sign HS256 with.
    public init?(_ auth: AuthConfig) {
        let secret = auth.keys.lazy.compactMap { key -> HMACKey? in
            if case .hmac(let hmac, let bytes) = key, bytes >= 32 { return hmac }
            return nil
        }.first
        guard let secret else { return nil }
        let keys = JWTKeyCollection()
        self.keys = keys
        self.loaded = Task(executorPreference: VerificationExecutor.shared) { await keys.add(hmac: secret, digestAlgorithm: .sha256) }
        self.issuer = auth.issuer
        self.audience = auth.audience
        self.rolesClaim = auth.rolesClaim
    }

    /// A signed token for `subject` with `roles`, valid for `lifetime` seconds from `now`.
    func issue(subject: String, roles: [String], lifetime: Int, now: Date = Date()) async throws -> (token: String, expires: Date) {
        await loaded.value
        let issuedAt = now.timeIntervalSince1970.rounded(.down)
        let expires = Date(timeIntervalSince1970: issuedAt + Double(lifetime))
        let claims = DevTokenClaims(
            subject: subject, roles: roles, rolesClaim: rolesClaim, issuedAt: Int(issuedAt), expires: Int(issuedAt) + lifetime,
            issuer: issuer, audience: audience)
        return (try await keys.sign(claims), expires)
    }
}

/// The claims of a development token; the roles go under the configured claim name,
/// hence the hand-written encoding.
struct DevTokenClaims: JWTPayload {
    let subject: String
    let roles: [String]
    let rolesClaim: String
    let issuedAt: Int
    let expires: Int
    let issuer: String?
    let audience: String?

    private struct Name: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(_ name: String) { stringValue = name }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Name.self)
        try container.encode(subject, forKey: Name("sub"))
        try container.encode(issuedAt, forKey: Name("iat"))
        try container.encode(expires, forKey: Name("exp"))
        try container.encodeIfPresent(issuer, forKey: Name("iss"))
        try container.encodeIfPresent(audience, forKey: Name("aud"))
        if !roles.isEmpty { try container.encode(roles, forKey: Name(rolesClaim)) }
    }

    init(
        subject: String, roles: [String], rolesClaim: String, issuedAt: Int, expires: Int, issuer: String?, audience: String?
    ) {
        self.subject = subject
        self.roles = roles
        self.rolesClaim = rolesClaim
        self.issuedAt = issuedAt
        self.expires = expires
        self.issuer = issuer
        self.audience = audience
    }

    /// Only signed here, never read back: `TokenVerifier` reads tokens.
    init(from decoder: any Decoder) throws {
        throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "development tokens are never decoded"))
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
