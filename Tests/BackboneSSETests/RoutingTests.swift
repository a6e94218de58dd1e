import DocumentStore
import Testing

/// Which routes exist and which methods they take: 404, 405 with `Allow`, `OPTIONS`,
/// and method overrides that aim at a missing method (moved from
/// Tests/integration/test_rest.py).
@Suite struct RoutingTests {
    @Test(arguments: [
        ("GET", "/nope"), ("POST", "/nope"), ("GET", "/nope/1"), ("PUT", "/nope/1"),
        ("DELETE", "/nope/1"), ("GET", "/events-not"), ("GET", "/Todos"),
    ])
    func unknownCollectionIs404(method: String, path: String) async throws {
        try await TestApp.run { app in
            let r =
                method == "POST" || method == "PUT"
                ? try await app.request(method, path, json: #"{"title": "x"}"#)
                : try await app.request(method, path)
            expectError(r, 404)
        }
    }

    @Test func overrideToAMethodTheRouteLacksIs405() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "override 405"}"#)
            let n = try await app.count()
            let r = try await app.request("POST", "/todos", headers: [("X-HTTP-Method-Override", "DELETE")])
            expectError(r, 405)
            #expect(r.header("Allow")?.contains("POST") == true)
            #expect(try await app.count() == n)
            #expect(try await app.get("/todos/\(doc.string("id"))").status == 200)
        }
    }

    @Test(arguments: [
        ("DELETE", "/todos", ["GET", "HEAD", "POST", "OPTIONS"]),
        ("PUT", "/todos", ["GET", "HEAD", "POST", "OPTIONS"]),
        ("PATCH", "/todos", ["GET", "HEAD", "POST", "OPTIONS"]),
        ("POST", "/todos/some-id", ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]),
        ("POST", "/healthz", ["GET", "HEAD", "OPTIONS"]),
    ])
    func wrongMethodIs405WithAllow(method: String, path: String, allowed: [String]) async throws {
        try await TestApp.run { app in
            let n = try await app.count()
            let r =
                method == "DELETE"
                ? try await app.request(method, path)
                : try await app.request(method, path, json: #"{"title": "x"}"#)
            expectError(r, 405)
            #expect(r.headerItems("Allow") == Set(allowed))
            #expect(try await app.count() == n)
        }
    }

    @Test(arguments: [
        ("/todos", ["GET", "HEAD", "POST", "OPTIONS"]),
        ("/todos/any-id", ["GET", "HEAD", "PUT", "PATCH", "DELETE", "OPTIONS"]),
    ])
    func optionsReturnsAllow(path: String, allowed: [String]) async throws {
        try await TestApp.run { app in
            let r = try await app.options(path)
            #expect([200, 204].contains(r.status))
            #expect(r.headerItems("Allow") == Set(allowed))
        }
    }

    /// Not moved from pytest: a stream opens in process too (its content stays pytest's).
    @Test(arguments: ["/todos", "/todos/some-id", "/events?collections=todos,lists"])
    func aStreamOpensWithItsHeaders(target: String) async throws {
        try await TestApp.run { app in
            let r = try await app.get(target, headers: [("Accept", "text/event-stream")])
            defer { r.closeStream() }
            #expect(r.status == 200)
            #expect(r.stream != nil)
            #expect(r.header("Content-Type")?.hasPrefix("text/event-stream") == true)
            #expect(r.header("Cache-Control") == "no-cache, no-transform")
            #expect(r.header("X-Accel-Buffering") == "no")
        }
    }
}
