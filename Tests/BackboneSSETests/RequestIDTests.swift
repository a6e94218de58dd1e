@testable import BackboneSSE
import Testing

/// Every answer names its request (`X-Request-Id`), as the log lines about it do.
@Suite struct RequestIDTests {
    @Test func everyAnswerCarriesADistinctRequestID() async throws {
        try await TestApp.run { app in
            let answers = [
                try await app.get("/todos"),
                try await app.get("/todos/no-such"),
                try await app.post("/todos", json: "{"),
                try await app.get("/nothing/here/at/all"),
            ]
            let ids = answers.compactMap { $0.header("X-Request-Id") }
            #expect(ids.count == answers.count)
            #expect(Set(ids).count == ids.count)
        }
    }

    @Test func generatedIDsAreThePrefixAndTheCountInHex() {
        #expect(RequestID.id(prefix: 0xfdd4_a4cd, count: 0x2) == "fdd4a4cd-2")
        #expect(RequestID.id(prefix: 0xa, count: 0) == "a-0")
        #expect(RequestID.id(prefix: 0, count: UInt64.max) == "0-ffffffffffffffff")
    }

    @Test func aProxysRequestIDIsKept() async throws {
        try await TestApp.run { app in
            let r = try await app.get("/todos", headers: [("X-Request-Id", "lb-7f3a.9_x")])
            #expect(r.header("X-Request-Id") == "lb-7f3a.9_x")
        }
    }

    @Test(arguments: ["", "has space", "quote\"", String(repeating: "a", count: 65)])
    func anUnfitRequestIDIsReplaced(_ sent: String) async throws {
        try await TestApp.run { app in
            let r = try await app.get("/todos", headers: [("X-Request-Id", sent)])
            let id = try #require(r.header("X-Request-Id"))
            #expect(id != sent)
            #expect(!id.isEmpty)
        }
    }
}
