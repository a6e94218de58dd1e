import DocumentStore
import Testing

@testable import BackboneSSE

/// The `auth` block and the collections' `owner` and `access`: what they mean, and the
/// config errors that stop the start, each naming its key.
@Suite struct AuthConfigTests {
    @Test func readsTheAuthBlockAndTheRules() throws {
        let config = try ConfigLoader.parse(AuthTestConfig.yaml, context: TestTokens.context)
        let auth = try #require(config.auth)
        #expect(auth.keys.count == 5)
        #expect(
            auth.keys.flatMap(\.algorithms).sorted() == ["ES256", "ES384", "EdDSA", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512"])
        #expect(auth.issuer == "https://id.test" && auth.audience == "todos-app" && auth.leeway == 5 && auth.rolesClaim == "roles")
        #expect(auth.metrics == AccessRules([.role("ops")]))
        let todos = config.collections[0]
        #expect(todos.owner == "owner")
        #expect(todos.access?.read == AccessRules([.owner]))
        #expect(todos.access?.update == AccessRules([.owner, .role("admin")]))
        #expect(todos.serverFields.contains("owner"))
        #expect(todos.layout.indexes.contains(FieldPath("owner")!))
        #expect(todos.layout.fieldTypes[FieldPath("owner")!] == .string)
        #expect(config.collections[2].access == nil)
        #expect(config.collections[3].access?.delete == AccessRules([.nobody]))
    }

    @Test func readsRateLimitsAndTheTicketVariable() throws {
        let config = try ConfigLoader.parse(
            """
            auth:
              jwt: {secret_env: BACKBONE_SSE_TEST_JWT_SECRET, roles_claim: groups}
              rate_limit: {reads: 6000, writes: 600}
              ticket_secret_env: TICKETS
            collections: {todos: {}}
            """,
            context: ConfigContext(
                environment: [TestTokens.secretVariable: TestTokens.secret, "TICKETS": TestTokens.ticketSecret],
                directory: TestTokens.keysFolder))
        #expect(config.auth?.rateLimit == AuthConfig.RateLimit(reads: 6000, writes: 600))
        #expect(config.auth?.ticketSecretEnv == "TICKETS")
        #expect(config.auth?.ticketSecret == Array(TestTokens.ticketSecret.utf8))
        #expect(config.auth?.rolesClaim == "groups")
    }

    @Test func noAuthBlockIsTodaysBehaviour() throws {
        let config = try ConfigLoader.parse("collections: {todos: {}}")
        #expect(config.auth == nil)
    }

    @Test(arguments: [
        ("auth: {}\ncollections: {a: {}}", "auth.jwt"),
        ("auth: {jwt: {}}\ncollections: {a: {}}", "auth.jwt"),
        ("auth: {jwt: {secret_env: NOT_SET_ANYWHERE}}\ncollections: {a: {}}", "auth.jwt.secret_env"),
        ("auth: {jwt: {secret_env: SHORT}}\ncollections: {a: {}}", "auth.jwt.secret_env"),
        ("auth: {jwt: {public_keys: [missing.pem]}}\ncollections: {a: {}}", "auth.jwt.public_keys[0]"),
        ("auth: {jwt: {public_keys: [rsa.key]}}\ncollections: {a: {}}", "auth.jwt.public_keys[0]"),
        ("auth: {jwt: {public_keys: rsa.pem}}\ncollections: {a: {}}", "auth.jwt.public_keys"),
        ("auth: {jwt: {public_keys: [rsa.pem], leeway: -1}}\ncollections: {a: {}}", "auth.jwt.leeway"),
        ("auth: {jwt: {public_keys: [rsa.pem], algorithm: HS256}}\ncollections: {a: {}}", "auth.jwt.algorithm"),
        ("auth: {jwt: {public_keys: [rsa.pem]}, metrics: owner}\ncollections: {a: {}}", "auth.metrics"),
        ("auth: {jwt: {public_keys: [rsa.pem]}, metrics: [admin]}\ncollections: {a: {}}", "auth.metrics[0]"),
        ("auth: {jwt: {public_keys: [rsa.pem]}, rate_limit: {reads: 0}}\ncollections: {a: {}}", "auth.rate_limit.reads"),
        ("auth: {jwt: {public_keys: [rsa.pem]}, ticket_secret_env: NOT_SET_ANYWHERE}\ncollections: {a: {}}", "auth.ticket_secret_env"),
        ("auth: {jwt: {public_keys: [rsa.pem]}, ticket_secret_env: SHORT}\ncollections: {a: {}}", "auth.ticket_secret_env"),
        // The JWT secret under another name: a ticket key of its own, or no start.
        ("auth: {jwt: {secret_env: JWT}, ticket_secret_env: SAME}\ncollections: {a: {}}", "auth.ticket_secret_env"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {access: {read: owner}}}", "collections.a.access.read"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {access: {read: everyone}}}", "collections.a.access.read"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {access: {list: user}}}", "collections.a.access.list"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {access: {read: []}}}", "collections.a.access.read"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {owner: a.b}}", "collections.a.owner"),
        ("auth: {jwt: {public_keys: [rsa.pem]}}\ncollections: {a: {owner: id}}", "collections.a.owner"),
        ("collections: {a: {access: {read: anyone}}}", "collections.a.access"),
        ("collections: {a: {owner: owner}}", "collections.a.owner"),
    ])
    func badAuthConfigNamesTheKey(yaml: String, key: String) {
        let context = ConfigContext(
            environment: [
                "SHORT": "too short", TestTokens.secretVariable: TestTokens.secret, "JWT": TestTokens.secret, "SAME": TestTokens.secret,
            ], directory: TestTokens.keysFolder)
        #expect {
            _ = try ConfigLoader.parse(yaml, context: context)
        } throws: { error in
            (error as? ConfigError)?.key == key
        }
    }

    @Test func theSecretIsNeverInTheError() {
        let context = ConfigContext(environment: ["SHORT": "hunter2-secret"], directory: TestTokens.keysFolder)
        do {
            _ = try ConfigLoader.parse("auth: {jwt: {secret_env: SHORT}}\ncollections: {a: {}}", context: context)
            Issue.record("a short secret was accepted")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
            #expect("\(error)".contains("SHORT"))
        }
    }

    @Test func rulesGiveTheWidestPermission() {
        let alice = Identity(subject: "alice", roles: ["admin"], expires: .distantFuture)
        let bob = Identity(subject: "bob", roles: [], expires: .distantFuture)
        let rules = AccessRules([.owner, .role("admin")])
        #expect(rules.permission(for: alice) == .all)
        #expect(rules.permission(for: bob) == .owned(by: "bob"))
        #expect(rules.permission(for: nil) == .none)
        #expect(AccessRules([.nobody]).permission(for: alice) == .none)
        #expect(AccessRules([.anyone]).permission(for: nil) == .all)
        #expect(!AccessRules([.nobody]).aUserMightPass)
    }
}
