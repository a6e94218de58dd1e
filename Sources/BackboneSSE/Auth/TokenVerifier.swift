import DocumentStore
import Foundation
import JWTKit

/// Turns a bearer token into an `Identity`, with jwt-kit.
///
/// One `JWTKeyCollection` per algorithm, holding only the keys of that algorithm's
/// kind: the token's `alg` header picks the collection, so `none`, an algorithm no key
/// is for, or an HMAC token "signed" with an RSA public key's bytes finds no key that
/// accepts it. Within a collection every key is tried (`iteratingKeys`), the `kid`
/// first. Verified identities are cached until their expiry (`TokenCache`).
public final class TokenVerifier: Sendable {
    private let collections: [String: JWTKeyCollection]
    /// Adding keys to a collection is async (it is an actor): done once, awaited by the
    /// first verifications.
    private let loaded: Task<Void, Never>
    let config: AuthConfig
    let cache: TokenCache

    /// Tokens longer than this are refused unread.
    static let maxTokenBytes = 8192

    public init(_ config: AuthConfig, cacheCapacity: Int = 10_000) {
        self.config = config
        self.cache = TokenCache(capacity: cacheCapacity)
        var collections: [String: JWTKeyCollection] = [:]
        var additions: [(key: VerificationKey, algorithm: String, kid: JWKIdentifier, collection: JWTKeyCollection)] = []
        for (i, key) in config.keys.enumerated() {
            for algorithm in key.algorithms {
                let collection = collections[algorithm] ?? JWTKeyCollection()
                collections[algorithm] = collection
                additions.append((key, algorithm, JWKIdentifier(string: "key-\(i)"), collection))
            }
        }
        self.collections = collections
        let pending = additions
        self.loaded = Task(executorPreference: VerificationExecutor.shared) {
            for addition in pending { await addition.key.add(to: addition.collection, algorithm: addition.algorithm, kid: addition.kid) }
        }
    }

    /// The identity of a token verified before and not yet expired.
    func cached(_ token: String, now: Date = Date()) -> Identity? {
        cache.lookup(token, now: now)
    }

    /// Verifies `token` (signature, then `exp`, `nbf`, `iss`, `aud`) and caches its identity.
    func verify(_ token: String, now: Date = Date()) async -> Result<Identity, Unauthenticated> {
        // A separate path for tickets: one never stands for a token (whatever its key).
        guard !token.hasPrefix(StreamTickets.prefix) else { return .failure(Unauthenticated("a stream ticket is not a bearer token")) }
        if let identity = cache.lookup(token, now: now) { return .success(identity) }
        guard token.utf8.count <= Self.maxTokenBytes else { return .failure(Unauthenticated("the token is too long")) }
        // RFC 7515 §2: base64url without padding. A padded copy of a token is another
        // spelling of it, which jwt-kit would accept.
        guard !token.utf8.contains(UInt8(ascii: "=")) else { return .failure(Unauthenticated("the token is not a JWT")) }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.decodeSegment(parts[0]), let payload = Self.decodeSegment(parts[1]) else {
            return .failure(Unauthenticated("the token is not a JWT"))
        }
        guard let algorithm = header["alg"]?.stringValue else { return .failure(Unauthenticated("the token names no algorithm")) }
        guard header["crit"] == nil else { return .failure(Unauthenticated("the token has critical header parameters")) }
        guard let collection = collections[algorithm] else {
            return .failure(Unauthenticated("no key here verifies tokens of this algorithm"))
        }
        await loaded.value
        let claims: TokenClaims
        do {
            claims = try await collection.verify(token, as: TokenClaims.self, iteratingKeys: true)
        } catch {
            // jwt-kit's errors can quote the claims: none of them goes out.
            return .failure(Unauthenticated("the token's signature or claims cannot be verified"))
        }
        let identity: Identity
        switch check(claims, payload: payload, now: now) {
        case .success(let checked): identity = checked
        case .failure(let failure): return .failure(failure)
        }
        cache.store(token, identity, now: now)
        return .success(identity)
    }

    /// The claims against the configuration, with the leeway on `exp` and `nbf`.
    func check(_ claims: TokenClaims, payload: JSONObject, now: Date) -> Result<Identity, Unauthenticated> {
        let leeway = TimeInterval(config.leeway)
        guard now.addingTimeInterval(-leeway) < claims.exp.value else { return .failure(Unauthenticated("the token has expired")) }
        if let nbf = claims.nbf, now.addingTimeInterval(leeway) < nbf.value {
            return .failure(Unauthenticated("the token is not valid yet"))
        }
        if let issuer = config.issuer, claims.iss?.value != issuer {
            return .failure(Unauthenticated("the token is from another issuer"))
        }
        if let audience = config.audience, claims.aud?.value.contains(audience) != true {
            return .failure(Unauthenticated("the token is for another audience"))
        }
        guard !claims.sub.value.isEmpty else { return .failure(Unauthenticated("the token names no subject")) }
        // A C string ends at NUL: SQLite would compare only what comes before it.
        guard !claims.sub.value.utf8.contains(0) else { return .failure(Unauthenticated("the token's subject contains a NUL character")) }
        var roles: Set<String> = []
        if case .array(let items)? = payload[config.rolesClaim] {
            for case .string(let role) in items { roles.insert(role) }
        }
        return .success(Identity(subject: claims.sub.value, roles: roles, expires: claims.exp.value.addingTimeInterval(leeway)))
    }

    /// A base64url JSON object (a JWT's header or payload); nil when it is not one.
    static func decodeSegment(_ segment: Substring) -> JSONObject? {
        // base64url to base64 on bytes (Foundation's string replacing went through
        // NSString, and was most of a first request's cost).
        var base64: [UInt8] = segment.utf8.map { b in
            b == UInt8(ascii: "-") ? UInt8(ascii: "+") : b == UInt8(ascii: "_") ? UInt8(ascii: "/") : b
        }
        guard !base64.contains(UInt8(ascii: "=")) else { return nil }
        while base64.count % 4 != 0 { base64.append(UInt8(ascii: "=")) }
        guard let data = Data(base64Encoded: Data(base64)) else { return nil }
        return (try? JSONParser.parse([UInt8](data)))?.objectValue
    }
}
