import BackboneSSE
import DocumentStore
import Testing

/// Requests as a user: `as: token` adds `Authorization: Bearer`.
extension TestApp {
    /// A TestApp on the auth tests' config (AuthTestConfig.yaml).
    static func runWithAuth(_ body: (TestApp) async throws -> Void) async throws {
        try await run(config: AuthTestConfig.yaml, body)
    }

    func get(_ target: String, as token: String?, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("GET", target, headers: Self.auth(token) + headers)
    }

    func post(_ target: String, json: String, as token: String?) async throws -> TestResponse {
        try await request("POST", target, json: json, headers: Self.auth(token))
    }

    func put(_ target: String, json: String, as token: String?) async throws -> TestResponse {
        try await request("PUT", target, json: json, headers: Self.auth(token))
    }

    func patch(_ target: String, json: String, as token: String?) async throws -> TestResponse {
        try await request("PATCH", target, json: json, headers: Self.auth(token))
    }

    func delete(_ target: String, as token: String?) async throws -> TestResponse {
        try await request("DELETE", target, headers: Self.auth(token))
    }

    /// `POST` that must answer 201: the new document's id.
    func created(
        _ collection: String, _ json: String, as token: String?, sourceLocation: SourceLocation = #_sourceLocation
    )
        async throws -> String
    {
        let r = try await post("/\(collection)", json: json, as: token)
        #expect(r.status == 201, "\(r.text)", sourceLocation: sourceLocation)
        return try #require(r.object?["id"]?.stringValue, sourceLocation: sourceLocation)
    }

    static func auth(_ token: String?) -> [(name: String, value: String)] {
        token.map(TestTokens.bearer) ?? []
    }
}

/// The users of the auth tests.
struct Users {
    let alice: String
    let bob: String
    let admin: String
    let editor: String
    let ops: String

    static func make() async throws -> Users {
        Users(
            alice: try await TestTokens.token("alice"), bob: try await TestTokens.token("bob"),
            admin: try await TestTokens.token("root", roles: ["admin"]), editor: try await TestTokens.token("ed", roles: ["editor"]),
            ops: try await TestTokens.token("ops", roles: ["ops"]))
    }
}
