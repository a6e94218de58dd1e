import DocumentStore
import Foundation
import Testing

@testable import BackboneSSE

/// `serve --dev-tokens`: `POST /auth/dev-token` signs a token for any name with the
/// config's HMAC key. The tokens pass the same verification as a provider's (issuer,
/// audience, roles claim); without the flag the route is 404.
@Suite struct DevTokenTests {
    /// Runs `body` on the auth tests' app with the development issuer on.
    static func withIssuer(_ body: (TestApp) async throws -> Void) async throws {
        let config = try ConfigLoader.parse(AuthTestConfig.yaml, context: TestTokens.context)
        let auth = try #require(config.auth)
        let issuer = try #require(DevTokenIssuer(auth))
        try await TestApp.run(config: AuthTestConfig.yaml, options: ServiceOptions(devTokens: issuer), body)
    }

    static func token(_ app: TestApp, _ json: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let r = try await app.post("/auth/dev-token", json: json)
        #expect(r.status == 201, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.header("Cache-Control") == "no-store", sourceLocation: sourceLocation)
        return try #require(r.object?["token"]?.stringValue, sourceLocation: sourceLocation)
    }

    @Test func anIssuedTokenIsVerifiedLikeAProvidersWithItsRoles() async throws {
        try await Self.withIssuer { app in
            let alice = try await Self.token(app, #"{"sub": "alice"}"#)
            let admin = try await Self.token(app, #"{"sub": "root", "roles": ["admin"]}"#)
            let created = try await app.post("/notes", json: #"{"text": "hers"}"#, as: alice)
            #expect(created.status == 201, "\(created.text)")
            #expect(created.object?["owner"]?.stringValue == "alice")
            let id = try #require(created.object?["id"]?.stringValue)
            // notes: read [owner, role:admin]; the admin role came through the roles claim.
            #expect(try await app.get("/notes/\(id)", as: admin).status == 200)
            let other = try await Self.token(app, #"{"sub": "bob"}"#)
            #expect(try await app.get("/notes/\(id)", as: other).status == 404)
        }
    }

    @Test func theTokenLivesAsLongAsAsked() async throws {
        try await Self.withIssuer { app in
            // Whole seconds (JWT NumericDate), counted from when the request was served.
            func expiry(_ json: String) async throws -> (expires: Date, sent: Date, answered: Date) {
                let sent = Date()
                let r = try await app.post("/auth/dev-token", json: json)
                #expect(r.status == 201, "\(r.text)")
                let text = r.object?["expires"]?.stringValue ?? ""
                return (try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: text)), sent, Date())
            }
            let asked = try await expiry(#"{"sub": "alice", "ttl": 60}"#)
            #expect(asked.expires >= asked.sent.addingTimeInterval(59) && asked.expires <= asked.answered.addingTimeInterval(60))
            let byDefault = try await expiry(#"{"sub": "alice"}"#)
            #expect(
                byDefault.expires >= byDefault.sent.addingTimeInterval(3599)
                    && byDefault.expires <= byDefault.answered.addingTimeInterval(3600))
        }
    }

    @Test(arguments: [
        #"{}"#, #"{"sub": ""}"#, #"{"sub": 7}"#, #"{"sub": "a", "ttl": 0}"#, #"{"sub": "a", "ttl": 86401}"#,
        #"{"sub": "a", "ttl": "60"}"#, #"{"sub": "a", "ttl": 1.5}"#, #"{"sub": "a", "roles": "admin"}"#,
        #"{"sub": "a", "roles": [1]}"#, #"{"sub": "a", "role": ["admin"]}"#, #"[]"#, #"{"sub": "bob\u0000x"}"#,
    ])
    func aBadRequestIs400(_ body: String) async throws {
        try await Self.withIssuer { app in
            let r = try await app.post("/auth/dev-token", json: body)
            #expect(r.status == 400, "\(body): \(r.text)")
            #expect(r.errorCode == "bad_body" || r.errorCode == "bad_json", "\(body): \(r.text)")
        }
    }

    @Test func withoutTheFlagThereIsNoSuchRoute() async throws {
        try await TestApp.runWithAuth { app in
            let r = try await app.post("/auth/dev-token", json: #"{"sub": "alice"}"#)
            #expect(r.status == 404 && r.errorCode == "not_found", "\(r.text)")
        }
    }

    @Test func noHMACKeyNoIssuer() {
        #expect(DevTokenIssuer(AuthConfig(keys: [])) == nil)
    }
}
