import Testing

@testable import BackboneSSE

/// `auth.rate_limit`: a sliding minute per user (per address when anonymous), reads and
/// writes apart, 429 with `Retry-After` past it.
@Suite struct RateLimitTests {
    @Test func theWindowSlides() {
        let limiter = RateLimiter()
        let start = 600.0  // a minute's start
        for _ in 0..<3 { #expect(limiter.admit("a", limit: 3, now: start) == nil) }
        // Full this minute: wait for the next, then for a third of it (3·(1−f)+1 ≤ 3).
        #expect(limiter.admit("a", limit: 3, now: start) == 80)
        #expect(limiter.admit("b", limit: 3, now: start) == nil)  // another caller
        #expect(limiter.admit("a", limit: 3, now: start + 79) != nil)
        #expect(limiter.admit("a", limit: 3, now: start + 80) == nil)
        // Two minutes on, the first minute's callers are forgotten.
        _ = limiter.admit("c", limit: 3, now: start + 185)
        #expect(limiter.trackedCallers == 1)
    }

    @Test func retryAfterWhenOnlyThePreviousMinuteIsInTheWay() {
        // Previous minute full, this one empty, a sixth in: 3·5/6 + 1 > 3 until f = 1/3.
        #expect(RateLimiter.wait(previous: 3, current: 0, limit: 3, fraction: 1.0 / 6) == 10)
    }

    static let config = """
        auth:
          jwt: {secret_env: BACKBONE_SSE_TEST_JWT_SECRET}
          rate_limit: {reads: 3, writes: 2}
        collections:
          shared: {}
          board: {access: {read: anyone}}
        """

    @Test func pastTheLimitIs429WithRetryAfterPerCaller() async throws {
        try await TestApp.run(config: Self.config) { app in
            let alice = try await TestTokens.token("alice")
            let bob = try await TestTokens.token("bob")
            for _ in 0..<3 {
                let r = try await app.get("/shared", as: alice)
                #expect(r.status == 200)
            }
            let limited = try await app.get("/shared", as: alice)
            #expect(limited.status == 429)
            #expect(limited.errorCode == "rate_limited")
            #expect(Int(limited.header("Retry-After") ?? "") ?? 0 >= 1)
            #expect(try await app.get("/shared", as: bob).status == 200)
            // Writes are counted apart.
            for _ in 0..<2 { #expect(try await app.post("/shared", json: "{}", as: alice).status == 201) }
            #expect(try await app.post("/shared", json: "{}", as: alice).status == 429)
            // Anonymous callers by address (in process: one, unknown).
            for _ in 0..<3 { #expect(try await app.get("/board", as: nil).status == 200) }
            #expect(try await app.get("/board", as: nil).status == 429)
            // /healthz is never limited.
            for _ in 0..<5 { #expect(try await app.get("/healthz", as: nil).status == 200) }
        }
    }
}
