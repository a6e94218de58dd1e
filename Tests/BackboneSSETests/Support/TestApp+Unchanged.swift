import DocumentStore
import Testing

extension TestApp {
    /// The `unchanged` fixture of Tests/integration/test_bad_input.py: runs `body` on a
    /// new app holding one `existing` document that bad writes aim at; afterwards
    /// `GET /healthz` must answer 200, both collections must hold as many documents as
    /// before, and `existing` must be as it was.
    static func unchanged(_ body: (TestApp, _ existing: JSONObject) async throws -> Void) async throws {
        try await run { app in
            let existing = try await app.create(#"{"title": "target", "priority": 1, "slug": "bad-input-target", "tags": ["a"]}"#)
            let before = [try await app.count("todos"), try await app.count("lists")]
            try await body(app, existing)
            #expect(try await app.get("/healthz").status == 200)
            #expect([try await app.count("todos"), try await app.count("lists")] == before, "a bad request wrote a document")
            #expect(try await app.document(existing.string("id")) == existing)
        }
    }
}
