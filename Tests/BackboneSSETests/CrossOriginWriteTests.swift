import BackboneSSE
import DocumentStore
import Testing

/// Writes a browser sends for another site without a preflight are refused (403
/// `cross_origin`) and change nothing; this server's own pages, allowed origins and
/// clients that are no browser page write as before.
@Suite struct CrossOriginWriteTests {
    static let host = (name: "Host", value: "127.0.0.1:8080")
    static let evil = (name: "Origin", value: "http://evil.example")

    @Test func aFormPostWithMethodDeleteFromAnotherSiteDeletesNothing() async throws {
        try await TestApp.unchanged { app, existing in
            let id = existing.string("id")
            let r = try await app.request(
                "POST", "/todos/\(id)", body: Array("_method=DELETE".utf8),
                headers: [Self.host, Self.evil, ("Content-Type", "application/x-www-form-urlencoded")])
            expectError(r, 403, "cross_origin")
        }
    }

    @Test func anEmulateJSONPutFromAnotherSiteOverwritesNothing() async throws {
        try await TestApp.unchanged { app, existing in
            let id = existing.string("id")
            let r = try await app.request(
                "POST", "/todos/\(id)", body: Array(#"model={"title":"pwned"}&_method=PUT"#.utf8),
                headers: [Self.host, Self.evil, ("Content-Type", "application/x-www-form-urlencoded")])
            expectError(r, 403, "cross_origin")
        }
    }

    @Test func aBeaconFromAnotherSiteCreatesNothing() async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.request("POST", "/todos", body: Array(#"{"title":"beacon"}"#.utf8), headers: [Self.host, Self.evil])
            expectError(r, 403, "cross_origin")
        }
    }

    @Test(arguments: ["https://evil.example/page?x=1", "http://127.0.0.1:9999/"])
    func aRefererFromAnotherSiteIsRefusedWithoutOrigin(_ referer: String) async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.post("/todos", json: #"{"title":"x"}"#, headers: [Self.host, ("Referer", referer)])
            expectError(r, 403, "cross_origin")
        }
    }

    @Test func originNullIsRefused() async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.post("/todos", json: #"{"title":"x"}"#, headers: [Self.host, ("Origin", "null")])
            expectError(r, 403, "cross_origin")
        }
    }

    @Test func thisServersOwnPagesWrite() async throws {
        try await TestApp.run { app in
            let origin = ("Origin", "http://127.0.0.1:8080")
            let created = try await app.post("/todos", json: #"{"title":"mine"}"#, headers: [Self.host, origin])
            #expect(created.status == 201)
            let id = try #require(created.object?["id"]?.stringValue)
            let referred = try await app.patch(
                "/todos/\(id)", json: #"{"done":true}"#, headers: [Self.host, ("Referer", "http://127.0.0.1:8080/index.html")])
            #expect(referred.status == 200)
        }
    }

    @Test func anOriginAllowedWithCORSWrites() async throws {
        try await TestApp.run(options: ServiceOptions(corsOrigins: ["http://app.example"])) { app in
            let r = try await app.post("/todos", json: #"{"title":"x"}"#, headers: [Self.host, ("Origin", "http://app.example")])
            #expect(r.status == 201)
        }
    }

    @Test func aClientThatIsNoBrowserPageWrites() async throws {
        try await TestApp.run { app in
            let r = try await app.post("/todos", json: #"{"title":"curl"}"#)
            #expect(r.status == 201)
        }
    }

    @Test func readsFromAnotherSiteAreNotRefused() async throws {
        try await TestApp.run { app in
            let r = try await app.get("/todos", headers: [Self.host, Self.evil])
            #expect(r.status == 200)
        }
    }
}
