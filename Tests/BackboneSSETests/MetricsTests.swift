import Testing

/// `/metrics` as the middleware and the store report it: labels from closed sets only.
@Suite struct MetricsTests {
    static func lines(_ app: TestApp) async throws -> [String] {
        let r = try await app.get("/metrics")
        #expect(r.status == 200)
        return r.text.split(separator: "\n").map(String.init)
    }

    @Test func requestsAreCountedByRouteTemplateMethodAndStatus() async throws {
        try await TestApp.run { app in
            let created = try await app.create(#"{"title": "metrics"}"#)
            let id = try #require(created["id"]?.stringValue)
            _ = try await app.get("/todos/\(id)")
            _ = try await app.get("/todos/no-such-id")
            let lines = try await Self.lines(app)
            #expect(lines.contains(#"backbone_sse_http_requests_total{route="/{collection}",method="POST",status="201"} 1"#))
            #expect(lines.contains(#"backbone_sse_http_requests_total{route="/{collection}/{id}",method="GET",status="200"} 1"#))
            #expect(lines.contains(#"backbone_sse_http_requests_total{route="/{collection}/{id}",method="GET",status="404"} 1"#))
            #expect(!lines.contains { $0.contains("no-such-id") })
        }
    }

    @Test func anInventedMethodIsCountedAsOtherAndAddsNoSeries() async throws {
        try await TestApp.run { app in
            for i in 0..<5 {
                let r = try await app.request("INVENTED\(i)", "/todos")
                #expect(r.status == 405)
            }
            let lines = try await Self.lines(app)
            #expect(lines.contains(#"backbone_sse_http_requests_total{route="/{collection}",method="other",status="405"} 5"#))
            #expect(!lines.contains { $0.contains("INVENTED") })
        }
    }

    @Test func onlySuccessfulWritesCountAsWrittenDocuments() async throws {
        try await TestApp.run { app in
            _ = try await app.create(#"{"title": "one"}"#)
            let refused = try await app.post("/todos", json: #"{"title": ""}"#)
            #expect(refused.status == 422)
            let lines = try await Self.lines(app)
            #expect(lines.contains(#"backbone_sse_documents_written_total{collection="todos",operation="POST"} 1"#))
            #expect(lines.contains("backbone_sse_store_writes_total 1"))
        }
    }
}
