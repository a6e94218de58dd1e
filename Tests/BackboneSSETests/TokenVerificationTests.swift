import Foundation
import Testing

@testable import BackboneSSE

/// Identity from tokens: every configured algorithm is accepted; every forged, stale or
/// foreign token is 401 with `WWW-Authenticate`, and says nothing of the token.
@Suite struct TokenVerificationTests {
    @Test(arguments: [
        TestTokens.Signer.hs256, .hs384, .hs512, .rs256, .rs384, .rs512, .es256, .es384, .eddsa,
    ])
    func eachKeyKindVerifies(signer: TestTokens.Signer) async throws {
        try await TestApp.runWithAuth { app in
            let token = try await TestTokens.sign(TestTokens.claims("alice"), with: signer)
            let r = try await app.get("/shared", as: token)
            #expect(r.status == 200, "\(r.text)")
        }
    }

    /// Each kind of bad token, and why it must fail.
    static func forgeries() async throws -> [(String, String)] {
        let good = try await TestTokens.token("alice")
        let parts = good.split(separator: ".").map(String.init)
        return [
            ("alg none", TestTokens.unsigned("alice")),
            (
                "HMAC signed with the RSA public key's bytes",
                try await TestTokens.sign(TestTokens.claims("alice"), with: .rsaPublicKeyAsSecret)
            ),
            ("another secret", try await TestTokens.sign(TestTokens.claims("alice"), with: .otherSecret)),
            ("an HS256 signature under an HS512 header", TestTokens.withHeader(good, #"{"alg":"HS512","typ":"JWT"}"#)),
            ("an HS256 signature under an RS256 header", TestTokens.withHeader(good, #"{"alg":"RS256","typ":"JWT"}"#)),
            ("an unknown algorithm", TestTokens.withHeader(good, #"{"alg":"PS256","typ":"JWT"}"#)),
            ("a critical header", TestTokens.withHeader(good, #"{"alg":"HS256","crit":["x"]}"#)),
            ("expired", try await TestTokens.sign(TestTokens.claims("alice", expiresIn: -60))),
            ("not yet valid", try await TestTokens.sign(TestTokens.claims("alice", notBefore: 120))),
            ("another issuer", try await TestTokens.sign(TestTokens.claims("alice", iss: "https://evil.test"))),
            ("no issuer", try await TestTokens.sign(TestTokens.claims("alice", iss: nil))),
            ("another audience", try await TestTokens.sign(TestTokens.claims("alice", aud: "other-app"))),
            ("no subject", try await TestTokens.sign(TestTokens.claims(nil))),
            (
                "a changed payload",
                parts[0] + "." + TestTokens.segment(#"{"sub":"root","roles":["admin"],"exp":9999999999}"#) + "." + parts[2]
            ),
            ("malformed", "not-a-jwt"),
            ("two parts", parts[0] + "." + parts[1]),
            ("a bad base64 header", "%%%." + parts[1] + "." + parts[2]),
            // RFC 7515 §2: base64url without padding; a padded copy is another spelling.
            ("a padded signature", good + "="),
            ("a NUL in the subject", try await TestTokens.sign(TestTokens.claims("alice\u{0}x"))),
        ]
    }

    @Test func everyForgedOrStaleTokenIs401() async throws {
        try await TestApp.runWithAuth { app in
            for (kind, token) in try await Self.forgeries() {
                let r = try await app.get("/board", as: token)  // `read: anyone`: still 401
                #expect(r.status == 401, "\(kind): \(r.text)")
                #expect(r.errorCode == "unauthenticated", "\(kind)")
                #expect(r.header("WWW-Authenticate") == #"Bearer error="invalid_token""#, "\(kind)")
                #expect(!r.text.contains(token), "\(kind): the answer quotes the token")
            }
        }
    }

    /// The leeway (5 s here) on `exp` and `nbf`, at fixed instants (a loaded machine
    /// must not move the clock between signing and checking).
    @Test func leewayAllowsALittleSkewAndNoMore() async throws {
        let config = try ConfigLoader.parse(AuthTestConfig.yaml, context: TestTokens.context)
        let auth = try #require(config.auth)
        let now = Date()
        let expired = try await TestTokens.sign(TestTokens.claims("alice", expiresIn: -2, at: now))
        #expect((try? await TokenVerifier(auth).verify(expired, now: now).get()) != nil)
        #expect((try? await TokenVerifier(auth).verify(expired, now: now.addingTimeInterval(4)).get()) == nil)
        let early = try await TestTokens.sign(TestTokens.claims("alice", notBefore: 2, at: now))
        #expect((try? await TokenVerifier(auth).verify(early, now: now).get()) != nil)
        #expect((try? await TokenVerifier(auth).verify(early, now: now.addingTimeInterval(-4)).get()) == nil)
    }

    @Test func noTokenWhereOneIsNeededIs401WithoutInvalidToken() async throws {
        try await TestApp.runWithAuth { app in
            let r = try await app.get("/shared")
            #expect(r.status == 401)
            #expect(r.header("WWW-Authenticate") == "Bearer")
            let basic = try await app.get("/shared", headers: [("Authorization", "Basic YWxpY2U6cHc=")])
            #expect(basic.status == 401)
            #expect(basic.header("WWW-Authenticate") == #"Bearer error="invalid_token""#)
        }
    }

    @Test func healthzAndTheSpecStayOpen() async throws {
        try await TestApp.runWithAuth { app in
            let probes: [(String, String?)] = [
                ("/healthz", nil), ("/healthz", "garbage"), ("/livez", nil), ("/readyz", "garbage"), ("/openapi.yaml", nil),
                ("/backbone-sse.js", "garbage"),
            ]
            for (target, token) in probes {
                let r = try await app.get(target, as: token)
                #expect(r.status == 200, "\(target)")
            }
        }
    }

    @Test func verifiedTokensAreCachedUntilTheirExpiry() async throws {
        let config = try ConfigLoader.parse(AuthTestConfig.yaml, context: TestTokens.context)
        let verifier = TokenVerifier(try #require(config.auth), cacheCapacity: 2)
        let token = try await TestTokens.token("alice")
        #expect(verifier.cached(token) == nil)
        let identity = try await verifier.verify(token).get()
        #expect(identity.subject == "alice")
        #expect(verifier.cached(token) == identity)
        // Past exp + leeway the cache forgets it.
        #expect(verifier.cached(token, now: identity.expires.addingTimeInterval(1)) == nil)
        // Bounded: a third token makes room.
        _ = try await verifier.verify(try await TestTokens.token("bob")).get()
        _ = try await verifier.verify(try await TestTokens.token("carol")).get()
        #expect(verifier.cache.count <= 2)
    }

    @Test func rolesComeFromTheConfiguredClaim() async throws {
        let config = try ConfigLoader.parse(AuthTestConfig.yaml, context: TestTokens.context)
        let verifier = TokenVerifier(try #require(config.auth))
        let identity = try await verifier.verify(try await TestTokens.token("root", roles: ["admin", "ops"])).get()
        #expect(identity.roles == ["admin", "ops"])
    }
}

@Suite struct BearerHeaderTests {
    @Test(
        arguments: [
            ("Bearer abc.def.ghi", "abc.def.ghi"),
            ("bearer abc", "abc"),
            ("BEARER   abc  ", "abc"),
            ("Bearer", nil),
            ("Bearer ", nil),
            ("Bearerabc", nil),
            ("Basic abc", nil),
            ("Bearer a b", "a b"),  // the verifier refuses it
        ] as [(String, String?)])
    func readsTheToken(header: String, token: String?) {
        #expect(Authentication.bearerToken(header) == token)
    }
}

/// The cache of verified tokens answers for the very token it verified, byte for byte:
/// its key hashes only a token's tail, and must still tell apart tokens that share it,
/// and those Swift's `==` would call equal (canonically equivalent text).
@Suite struct TokenCacheTests {
    let later = Date().addingTimeInterval(3600)

    @Test func tokensSharingTheirTailAreDifferentKeys() {
        let cache = TokenCache()
        let tail = String(repeating: "s", count: 40)
        cache.store("aaaa.bbbb." + tail, Identity(subject: "alice", roles: [], expires: later), now: Date())
        cache.store("cccc.dddd." + tail, Identity(subject: "bob", roles: [], expires: later), now: Date())
        #expect(cache.lookup("aaaa.bbbb." + tail, now: Date())?.subject == "alice")
        #expect(cache.lookup("cccc.dddd." + tail, now: Date())?.subject == "bob")
        #expect(cache.lookup("eeee.ffff." + tail, now: Date()) == nil)
    }

    @Test func aCanonicallyEquivalentSpellingIsAnotherToken() {
        let cache = TokenCache()
        cache.store("header.payload.K", Identity(subject: "alice", roles: [], expires: later), now: Date())
        #expect(cache.lookup("header.payload.\u{212A}", now: Date()) == nil)  // KELVIN SIGN: == "K" to Swift
        #expect(cache.lookup("header.payload.K", now: Date())?.subject == "alice")
    }

    @Test func anExpiredIdentityIsNotAnswered() {
        let cache = TokenCache()
        cache.store("t.t.t", Identity(subject: "alice", roles: [], expires: Date().addingTimeInterval(-1)), now: Date())
        #expect(cache.lookup("t.t.t", now: Date()) == nil)
        #expect(cache.count == 0)
    }
}
