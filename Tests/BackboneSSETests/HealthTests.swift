import Testing

/// `/healthz` is open to anyone (load balancers send no tokens): it says whether the
/// server and its store work, not where the data lives.
@Suite struct HealthTests {
    @Test func healthNamesTheKindOfStoreNotItsPath() async throws {
        try await TestApp.run { app in
            let r = try await app.get("/healthz")
            #expect(r.status == 200)
            #expect(r.object?["status"]?.stringValue == "ok")
            #expect(r.object?["store"]?.stringValue == "sqlite")
            #expect(!r.text.contains(app.directory.path))
        }
    }

    @Test func livenessAndReadinessSayOkWhileTheStoreAnswers() async throws {
        try await TestApp.run { app in
            for target in ["/livez", "/readyz"] {
                let r = try await app.get(target)
                #expect(r.status == 200, "\(target)")
                #expect(r.text == #"{"status":"ok"}"#, "\(target)")
            }
        }
    }
}
