import BackboneSSE
import Foundation
import JWTKit

/// Tokens for the auth tests, signed by jwt-kit with the keys in Fixtures/keys (made for
/// these tests with openssl; they protect nothing), forged ones included.
enum TestTokens {
    /// The HMAC secret of the tests' `auth.jwt.secret_env`.
    /// 64 bytes: long enough for HS512 (a shorter secret verifies only HS256 or HS384).
    static let secret = "test-secret-of-sixty-four-bytes-for-hs512-0123456789abcdefghijkl"
    static let secretVariable = "BACKBONE_SSE_TEST_JWT_SECRET"
    /// The stream tickets' key of `AuthTestConfig.withTicketSecret`.
    static let ticketSecret = "test-ticket-secret-of-at-least-thirty-two-bytes"
    static let ticketSecretVariable = "BACKBONE_SSE_TEST_TICKET_SECRET"
    /// The `issuer` and `audience` of `AuthTestConfig.yaml`.
    static let issuer = "https://id.test"
    static let audience = "todos-app"

    static let keysFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../Fixtures/keys").standardized.path

    /// Key paths in test configs are relative to the fixtures' folder.
    static let context = ConfigContext(
        environment: [secretVariable: secret, ticketSecretVariable: ticketSecret], directory: keysFolder)

    static func pem(_ name: String) -> String {
        (try? String(contentsOfFile: "\(keysFolder)/\(name)", encoding: .utf8)) ?? ""
    }

    /// The claims a test signs; any may be left out.
    struct Claims: JWTPayload {
        var sub: SubjectClaim?
        var exp: ExpirationClaim?
        var nbf: NotBeforeClaim?
        var iss: IssuerClaim?
        var aud: AudienceClaim?
        var roles: [String]?

        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static func claims(
        _ sub: String?, roles: [String]? = nil, expiresIn: TimeInterval = 3600, notBefore: TimeInterval? = nil,
        iss: String? = issuer, aud: String? = audience, at now: Date = Date()
    ) -> Claims {
        Claims(
            sub: sub.map { SubjectClaim(value: $0) }, exp: ExpirationClaim(value: now.addingTimeInterval(expiresIn)),
            nbf: notBefore.map { NotBeforeClaim(value: now.addingTimeInterval($0)) }, iss: iss.map { IssuerClaim(value: $0) },
            aud: aud.map { AudienceClaim(value: [$0]) }, roles: roles)
    }

    enum Signer {
        case hs256, hs384, hs512, rs256, rs384, rs512, es256, es384, eddsa
        /// HS256 with some other secret.
        case otherSecret
        /// HS256 "signed" with the RSA public key's PEM bytes: the classic forgery.
        case rsaPublicKeyAsSecret
    }

    static func sign(_ claims: Claims, with signer: Signer = .hs256) async throws -> String {
        let keys = JWTKeyCollection()
        switch signer {
        case .hs256: await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        case .hs384: await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha384)
        case .hs512: await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha512)
        case .otherSecret: await keys.add(hmac: HMACKey(from: "another-secret-of-at-least-thirty-two-bytes"), digestAlgorithm: .sha256)
        case .rsaPublicKeyAsSecret: await keys.add(hmac: HMACKey(from: pem("rsa.pem")), digestAlgorithm: .sha256)
        case .rs256: await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem("rsa.key")), digestAlgorithm: .sha256)
        case .rs384: await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem("rsa.key")), digestAlgorithm: .sha384)
        case .rs512: await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: pem("rsa.key")), digestAlgorithm: .sha512)
        case .es256: await keys.add(ecdsa: try ES256PrivateKey(pem: pem("es256.key")))
        case .es384: await keys.add(ecdsa: try ES384PrivateKey(pem: pem("es384.key")))
        case .eddsa: await keys.add(eddsa: try EdDSA.PrivateKey(pem: pem("ed25519.key")))
        }
        return try await keys.sign(claims)
    }

    /// A good HS256 token for `sub`.
    static func token(_ sub: String, roles: [String]? = nil) async throws -> String {
        try await sign(claims(sub, roles: roles))
    }

    static func bearer(_ token: String) -> [(name: String, value: String)] {
        [("Authorization", "Bearer \(token)")]
    }

    /// base64url without padding.
    static func segment(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// `token` with its header replaced (its signature kept).
    static func withHeader(_ token: String, _ header: String) -> String {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        return ([segment(header)] + parts.dropFirst().map(String.init)).joined(separator: ".")
    }

    /// An unsigned token: `alg: none`.
    static func unsigned(_ sub: String) -> String {
        let payload = #"{"sub":"\#(sub)","exp":\#(Int(Date().timeIntervalSince1970) + 3600)}"#
        return segment(#"{"alg":"none","typ":"JWT"}"#) + "." + segment(payload) + "."
    }
}
