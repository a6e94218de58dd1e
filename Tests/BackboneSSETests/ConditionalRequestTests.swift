import DocumentStore
import Testing

/// No lost updates: `_v` in the body, `If-Match` and `If-None-Match` (DESIGN.md §1),
/// in process (moved from Tests/integration/test_rest.py). Each write here is decided
/// by the service inside the store's transaction; races between writers stay in pytest.
@Suite struct ConditionalRequestTests {
    @Test(arguments: ["PUT", "PATCH"])
    func staleVInTheBodyIs409WithTheCurrentDocument(method: String) async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "conflict"}"#)
            let path = "/todos/\(doc.string("id"))"
            let current = try #require(try await app.patch(path, json: #"{"priority": 5}"#).object)
            #expect(current["_v"] == .int(2))
            let r = try await app.request(method, path, json: #"{"title": "stale write", "_v": 1}"#)
            let error = expectError(r, 409)
            #expect(error["current"] == .object(current))
            #expect(try await app.document(doc.string("id")) == current)
        }
    }

    @Test(arguments: ["PUT", "PATCH"])
    func vFromTheFutureIs409Too(method: String) async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "future"}"#)
            let error = expectError(try await app.request(method, "/todos/\(doc.string("id"))", json: #"{"title": "x", "_v": 5}"#), 409)
            #expect(error["current"] == .object(doc))
        }
    }

    @Test func putWithVOnAMissingDocumentIs409NotACreate() async throws {
        try await TestApp.run { app in
            let cid = unique("ghost")
            let r = try await app.put("/todos/\(cid)", json: #"{"title": "x", "_v": 3}"#)
            #expect(r.status == 409, "\(r.text)")
            #expect(try await app.get("/todos/\(cid)").status == 404)
        }
    }

    @Test func nonIntegerVIs400() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "bad v"}"#)
            expectError(try await app.patch("/todos/\(doc.string("id"))", json: #"{"_v": "1"}"#), 400)
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    /// The request of pytest's `server.request(method, path, headers=..., json=...)`:
    /// DELETE without a body, PUT and PATCH with `{"title": "changed"}`.
    private func write(
        _ app: TestApp, _ method: String, _ path: String, _ headers: [(name: String, value: String)]
    ) async throws -> TestResponse {
        if method == "DELETE" { return try await app.request(method, path, headers: headers) }
        return try await app.request(method, path, json: #"{"title": "changed"}"#, headers: headers)
    }

    @Test(arguments: ["PUT", "PATCH", "DELETE"])
    func ifMatchMismatchIs412(method: String) async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "if-match"}"#)
            expectError(try await write(app, method, "/todos/\(doc.string("id"))", [("If-Match", #""2""#)]), 412)
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    @Test(arguments: ["PUT", "PATCH", "DELETE"])
    func ifMatchWithTheCurrentETagSucceeds(method: String) async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "if-match ok"}"#)
            let r = try await write(app, method, "/todos/\(doc.string("id"))", [("If-Match", #""1""#)])
            #expect(r.status == 200, "\(r.text)")
        }
    }

    @Test func ifMatchOnAMissingDocumentIs412AndCreatesNothing() async throws {
        try await TestApp.run { app in
            let cid = unique("ifm")
            expectError(try await app.put("/todos/\(cid)", json: #"{"title": "x"}"#, headers: [("If-Match", "*")]), 412)
            #expect(try await app.get("/todos/\(cid)").status == 404)
        }
    }

    @Test func ifNoneMatchStarOnPutOnlyCreates() async throws {
        try await TestApp.run { app in
            let cid = unique("inm")
            #expect(try await app.put("/todos/\(cid)", json: #"{"title": "first"}"#, headers: [("If-None-Match", "*")]).status == 201)
            expectError(try await app.put("/todos/\(cid)", json: #"{"title": "second"}"#, headers: [("If-None-Match", "*")]), 412)
            #expect(try await app.document(cid)?["title"] == .string("first"))
        }
    }

    /// PATCH and DELETE need the document, so `If-None-Match: *` can never hold: 412
    /// when it exists (and nothing changes), 404 when it does not.
    @Test(arguments: ["PATCH", "DELETE"])
    func ifNoneMatchStarFailsWhereTheDocumentMustExist(method: String) async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "keep me"}"#)
            expectError(try await write(app, method, "/todos/\(doc.string("id"))", [("If-None-Match", "*")]), 412)
            #expect(try await app.document(doc.string("id")) == doc)
            expectError(try await write(app, method, "/todos/\(unique("inm"))", [("If-None-Match", "*")]), 404)
        }
    }

    /// emulateHTTP by `_method`: the override decides the method, and so the condition.
    @Test func ifNoneMatchStarHoldsForAPutSentAsPostWithMethod() async throws {
        try await TestApp.run { app in
            let cid = unique("inm")
            #expect(try await app.put("/todos/\(cid)", json: #"{"title": "first"}"#).status == 201)
            let r = try await app.post("/todos/\(cid)?_method=PUT", json: #"{"title": "second"}"#, headers: [("If-None-Match", "*")])
            expectError(r, 412)
            #expect(try await app.document(cid)?["title"] == .string("first"))
        }
    }
}
