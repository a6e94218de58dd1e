import DocumentStore
import Testing

/// The error body of DESIGN.md §1 and the schema's 422 details (moved from
/// Tests/integration/test_rest.py).
@Suite struct ErrorBodyTests {
    @Test func unprocessableHasDetailsWithJSONPointerPaths() async throws {
        try await TestApp.run { app in
            let n = try await app.count()
            let error = expectError(try await app.post("/todos", json: #"{"done": false}"#), 422, "validation_failed")
            let first = error["details"]?.arrayValue?.first?.objectValue
            #expect(first?["path"] == .string("/title"))
            #expect(first?["message"]?.stringValue?.isEmpty == false)
            #expect(try await app.count() == n)
        }
    }

    @Test(arguments: [
        (#"{"title": ""}"#, "/title"),
        (#"{"title": "\#(String(repeating: "x", count: 201))"}"#, "/title"),
        (#"{"title": 5}"#, "/title"),
        (#"{"title": "ok", "done": "yes"}"#, "/done"),
        (#"{"title": "ok", "priority": 1.5}"#, "/priority"),
        (#"{"title": "ok", "priority": "1"}"#, "/priority"),
        (#"{"title": "ok", "slug": 3}"#, "/slug"),
        (#"{"title": "ok", "tags": "a"}"#, "/tags"),
        (#"{"title": "ok", "tags": ["a", 1]}"#, "/tags/1"),
    ])
    func schemaViolationsAre422(document: String, path: String) async throws {
        try await TestApp.run { app in
            let n = try await app.count()
            let error = expectError(try await app.post("/todos", json: document), 422, "validation_failed")
            let details = (error["details"]?.arrayValue ?? []).compactMap(\.objectValue)
            #expect(details.contains { $0["path"] == .string(path) }, "\(details)")
            for detail in details {
                #expect(Set(detail.keys) == ["path", "message"])
            }
            #expect(try await app.count() == n)
        }
    }

    @Test func titleOf200CharactersIsFine() async throws {
        try await TestApp.run { app in
            let title = String(repeating: "é", count: 200)
            let doc = try await app.create(#"{"title": "\#(title)"}"#)
            #expect(doc["title"] == .string(title))
        }
    }

    @Test func everyErrorHasTheErrorShape() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "shapes"}"#)
            let answers: [(TestResponse, Int)] = [
                (try await app.get("/todos/missing"), 404),
                (try await app.get("/nope"), 404),
                (try await app.delete("/todos"), 405),
                (try await app.request("POST", "/todos", body: "{", headers: [("Content-Type", "application/json")]), 400),
                (try await app.request("POST", "/todos", body: "x", headers: [("Content-Type", "text/plain")]), 415),
                (try await app.put("/todos/\(doc.string("id"))", json: #"{"title": "x"}"#, headers: [("If-Match", #""9""#)]), 412),
                (try await app.post("/todos", json: #"{"id": "\#(doc.string("id"))", "title": "x"}"#), 409),
                (try await app.get("/todos?limit=x"), 400),
            ]
            for (r, status) in answers {
                expectError(r, status)
            }
        }
    }
}
