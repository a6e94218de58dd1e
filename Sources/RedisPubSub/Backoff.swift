/// Retry delays: `initial` doubling per failed attempt up to `maximum`, each scaled by a
/// random factor in 1 ± jitter. `reset` after a connection succeeds.
struct Backoff: Sendable {
    let initial: Duration
    let maximum: Duration
    let jitter: Double
    private(set) var attempt = 0

    init(initial: Duration, maximum: Duration, jitter: Double) {
        self.initial = initial
        self.maximum = maximum
        self.jitter = min(max(jitter, 0), 1)
    }

    init(_ options: RedisOptions) {
        self.init(initial: options.initialBackoff, maximum: options.maximumBackoff, jitter: options.jitter)
    }

    /// The next delay; `random` is in 0..<1 (a parameter, so tests can pin it).
    mutating func next(random: Double = Double.random(in: 0..<1)) -> Duration {
        // min(…, 30) keeps the shift from overflowing on a long outage.
        let base = min(maximum, initial * (1 << min(attempt, 30)))
        attempt += 1
        return base * (1 - jitter + 2 * jitter * random)
    }

    mutating func reset() { attempt = 0 }
}
