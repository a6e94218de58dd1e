import Testing

@testable import BackboneSSE

/// The sliding-minute counter behind `auth.rate_limit`, driven by explicit clocks.
@Suite struct RateLimiterTests {
    let second: Int64 = 1_000_000_000
    let minute: Int64 = 60_000_000_000

    @Test func theLimitHoldsWithinAWindowAndSaysWhenToRetry() {
        let limiter = RateLimiter(limit: 3)
        let t = 10 * minute + 15 * second
        #expect(limiter.take("ann", now: t) == .allowed)
        #expect(limiter.take("ann", now: t) == .allowed)
        #expect(limiter.take("ann", now: t + second) == .allowed)
        // Three in this window: once it is the previous window, a request fits when
        // its weight has faded to two: a third of the way into the next window.
        #expect(limiter.take("ann", now: t + 2 * second) == .refused(retryAfter: 43 + 20))
        #expect(limiter.take("bob", now: t + 2 * second) == .allowed)  // callers apart
    }

    @Test func theWindowSlidesRatherThanResetting() {
        let limiter = RateLimiter(limit: 4)
        let start = 5 * minute
        for i in 0..<4 { #expect(limiter.take("ann", now: start + Int64(50 + i) * second) == .allowed) }
        // Just past the boundary the previous window still weighs almost fully:
        // no burst of a whole new limit at the turn of the minute.
        #expect(limiter.take("ann", now: start + minute + second) != .allowed)
        // Half-way through, it weighs 2 of its 4: two more fit.
        #expect(limiter.take("ann", now: start + minute + 30 * second) == .allowed)
        #expect(limiter.take("ann", now: start + minute + 30 * second) == .allowed)
        // Then the older window must fade to 1 of its 4: at 45 s.
        #expect(limiter.take("ann", now: start + minute + 30 * second) == .refused(retryAfter: 15))
    }

    @Test func refusalsDoNotCountAndRetryAfterIsHonest() {
        let limiter = RateLimiter(limit: 2)
        let t = 3 * minute
        #expect(limiter.take("a", now: t) == .allowed)
        #expect(limiter.take("a", now: t) == .allowed)
        guard case .refused(let wait) = limiter.take("a", now: t + second) else {
            Issue.record("not refused")
            return
        }
        for _ in 0..<100 { _ = limiter.take("a", now: t + second) }
        #expect(limiter.take("a", now: t + second + Int64(wait - 1) * second) != .allowed)
        #expect(limiter.take("a", now: t + second + Int64(wait) * second) == .allowed)
    }

    @Test func idleCallersAreForgotten() {
        let limiter = RateLimiter(limit: 10)
        for i in 0..<1000 { _ = limiter.take("caller \(i)", now: minute) }
        #expect(limiter.trackedKeys == 1000)
        for i in 0..<4096 { _ = limiter.take("later \(i % 3)", now: 4 * minute) }
        #expect(limiter.trackedKeys == 3)
    }
}
