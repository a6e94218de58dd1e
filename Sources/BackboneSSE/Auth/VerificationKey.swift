import Foundation
import JWTKit

/// A key that verifies tokens, and the algorithms it is for. Each key accepts only the
/// algorithms of its kind: this is what makes an HMAC token "signed" with an RSA public
/// key's bytes, or `alg: none`, fail.
public enum VerificationKey: Sendable {
    /// HS256/384/512 with the secret from `auth.jwt.secret_env` (of this many bytes).
    case hmac(HMACKey, bytes: Int)
    case rsa(Insecure.RSA.PublicKey)
    case es256(ES256PublicKey)
    case es384(ES384PublicKey)
    case eddsa(EdDSA.PublicKey)

    /// The `alg` header values this key verifies.
    public var algorithms: [String] {
        switch self {
        // RFC 7518 §3.2: a key at least as long as the hash (jwt-kit insists too).
        case .hmac(_, let bytes): [("HS256", 32), ("HS384", 48), ("HS512", 64)].filter { bytes >= $0.1 }.map(\.0)
        case .rsa: ["RS256", "RS384", "RS512"]
        case .es256: ["ES256"]
        case .es384: ["ES384"]
        case .eddsa: ["EdDSA"]
        }
    }

    /// A PEM public key of any supported kind; nil when the text is none of them.
    public static func publicKey(pem: String) -> VerificationKey? {
        if let key = try? Insecure.RSA.PublicKey(pem: pem) { return .rsa(key) }
        if let key = try? ES256PublicKey(pem: pem) { return .es256(key) }
        if let key = try? ES384PublicKey(pem: pem) { return .es384(key) }
        if let key = try? EdDSA.PublicKey(pem: pem) { return .eddsa(key) }
        return nil
    }

    /// Adds this key to `collection` for `algorithm` (one of `algorithms`).
    func add(to collection: JWTKeyCollection, algorithm: String, kid: JWKIdentifier) async {
        switch self {
        case .hmac(let key, _):
            let digest: DigestAlgorithm = algorithm == "HS512" ? .sha512 : algorithm == "HS384" ? .sha384 : .sha256
            await collection.add(hmac: key, digestAlgorithm: digest, kid: kid)
        case .rsa(let key):
            let digest: DigestAlgorithm = algorithm == "RS512" ? .sha512 : algorithm == "RS384" ? .sha384 : .sha256
            await collection.add(rsa: key, digestAlgorithm: digest, kid: kid)
        case .es256(let key): await collection.add(ecdsa: key, kid: kid)
        case .es384(let key): await collection.add(ecdsa: key, kid: kid)
        case .eddsa(let key): await collection.add(eddsa: key, kid: kid)
        }
    }
}
