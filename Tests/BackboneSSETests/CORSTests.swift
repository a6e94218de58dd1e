import BackboneSSE
import Testing

/// Cross-origin pages (`--cors-origin`): what they may send and read (moved from
/// Tests/integration/test_rest.py; the 413, which the HTTP server answers, stays there).
@Suite struct CORSTests {
    static let origin = "http://example.test"
    static let options = ServiceOptions(corsOrigins: [origin])
    static let exposed: Set<String> = ["x-stream-cursor", "x-total-count", "link", "etag", "location"]

    @Test func noCORSHeadersWithoutCORSOrigin() async throws {
        try await TestApp.run { app in
            let r = try await app.get("/todos", headers: [("Origin", Self.origin)])
            #expect(r.status == 200)
            #expect(!r.has("Access-Control-Allow-Origin"))
        }
    }

    @Test func simpleRequestsExposeTheClientHeaders() async throws {
        try await TestApp.run(options: Self.options) { app in
            let origin = [(name: "Origin", value: Self.origin)]
            let answers = [
                try await app.get("/todos", headers: origin),
                try await app.post("/todos", json: #"{"title": "cors"}"#, headers: origin),
                try await app.get("/todos/missing", headers: origin),  // errors too
            ]
            for r in answers {
                #expect(r.header("Access-Control-Allow-Origin") == Self.origin, "\(r.status) \(r.response.headers)")
                #expect(r.headerSet("Access-Control-Expose-Headers").isSuperset(of: Self.exposed))
            }
            #expect(answers.last?.status == 404)
        }
    }

    @Test func preflightAllowsTheClientHeaders() async throws {
        try await TestApp.run(options: Self.options) { app in
            let r = try await app.options(
                "/todos/abc",
                headers: [
                    ("Origin", Self.origin),
                    ("Access-Control-Request-Method", "PUT"),
                    ("Access-Control-Request-Headers", "content-type, x-client-id, if-match, x-http-method-override"),
                ])
            #expect([200, 204].contains(r.status))
            #expect(r.header("Access-Control-Allow-Origin") == Self.origin)
            #expect(r.headerSet("Access-Control-Allow-Methods").contains("put"))
            #expect(
                r.headerSet("Access-Control-Allow-Headers").isSuperset(of: [
                    "x-client-id", "if-match", "x-http-method-override", "content-type",
                ]))
        }
    }

    @Test func preflightOnTheCollection() async throws {
        try await TestApp.run(options: Self.options) { app in
            let r = try await app.options(
                "/todos",
                headers: [
                    ("Origin", Self.origin), ("Access-Control-Request-Method", "POST"),
                    ("Access-Control-Request-Headers", "content-type, x-client-id"),
                ])
            #expect([200, 204].contains(r.status))
            #expect(r.header("Access-Control-Allow-Origin") == Self.origin)
            #expect(r.headerSet("Access-Control-Allow-Methods").contains("post"))
        }
    }

    @Test func corsHeadersOn304And405() async throws {
        try await TestApp.run(options: Self.options) { app in
            let doc = try await app.create(#"{"title": "cors 304"}"#)
            let r = try await app.get("/todos/\(doc.string("id"))", headers: [("Origin", Self.origin), ("If-None-Match", #""1""#)])
            #expect(r.status == 304)
            #expect(r.header("Access-Control-Allow-Origin") == Self.origin)
            let wrong = try await app.delete("/todos", headers: [("Origin", Self.origin)])
            #expect(wrong.status == 405)
            #expect(wrong.header("Access-Control-Allow-Origin") == Self.origin)
        }
    }

    @Test func otherOriginsGetNothing() async throws {
        try await TestApp.run(options: Self.options) { app in
            let r = try await app.get("/todos", headers: [("Origin", "http://evil.test")])
            #expect(r.status == 200)
            #expect(!r.has("Access-Control-Allow-Origin"))
            let preflight = try await app.options(
                "/todos", headers: [("Origin", "http://evil.test"), ("Access-Control-Request-Method", "POST")])
            #expect(!preflight.has("Access-Control-Allow-Origin"))
            #expect(!preflight.has("Access-Control-Allow-Headers"))
        }
    }

    /// A cache must not hand one origin's answer (with or without the CORS headers) to
    /// another: every answer says it varies by Origin when only some origins are allowed.
    @Test func everyAnswerVariesByOriginWhenSomeOriginsAreAllowed() async throws {
        try await TestApp.run(options: Self.options) { app in
            for headers in [[("Origin", "http://evil.test")], [("Origin", Self.origin)], []] {
                let r = try await app.get("/todos", headers: headers)
                #expect(Self.vary(r).contains("origin"), "\(headers): \(r.response.headers)")
            }
        }
        try await TestApp.run(options: ServiceOptions(corsOrigins: ["*"])) { app in
            let r = try await app.get("/todos", headers: [("Origin", "http://any.test")])
            #expect(!Self.vary(r).contains("origin"))
        }
    }

    /// Every `Vary` header's items, lower-cased (an answer may carry several).
    static func vary(_ r: TestResponse) -> Set<String> {
        Set(
            r.response.headers.filter { $0.name.lowercased() == "vary" }
                .flatMap { $0.value.lowercased().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } })
    }
}
