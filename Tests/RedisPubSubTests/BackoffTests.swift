import Testing

@testable import RedisPubSub

@Suite struct BackoffTests {
    @Test func doublesUpToTheMaximumWithinTheJitter() {
        var low = Backoff(initial: .milliseconds(100), maximum: .seconds(5), jitter: 0.5)
        var high = low
        let lows = (0..<10).map { _ in low.next(random: 0) }
        let highs = (0..<10).map { _ in high.next(random: 0.999_999) }
        #expect(lows.prefix(3) == [.milliseconds(50), .milliseconds(100), .milliseconds(200)])
        #expect(lows.last == .milliseconds(2500))
        #expect(highs.allSatisfy { $0 < .milliseconds(7500) })
        #expect(highs.last! > .milliseconds(7499))
    }

    @Test func resetStartsOver() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), jitter: 0)
        for _ in 0..<5 { _ = backoff.next() }
        backoff.reset()
        #expect(backoff.next() == .milliseconds(100))
    }

    @Test func aLongOutageDoesNotOverflow() {
        var backoff = Backoff(initial: .milliseconds(100), maximum: .seconds(5), jitter: 0)
        for _ in 0..<200 { _ = backoff.next() }
        #expect(backoff.next() == .seconds(5))
    }
}
