/// The bounds of a pub/sub link. The defaults detect a Redis that stops answering within
/// `idlePing + commandTimeout` (2 s) and retry 100 ms, 200 ms, … up to 5 s apart, ±50%.
public struct RedisOptions: Sendable, Equatable {
    /// The TCP connect; `stop()` may wait this long when it lands in a connect.
    public var connectTimeout: Duration = .seconds(1)
    /// How long any one reply may take (AUTH, SELECT, SUBSCRIBE, PUBLISH, PING).
    public var commandTimeout: Duration = .seconds(1)
    /// A connection quiet this long sends a PING, so that a hung Redis is noticed even
    /// when nothing is being published.
    public var idlePing: Duration = .seconds(1)
    /// The first retry delay after a failure; it doubles each failed attempt.
    public var initialBackoff: Duration = .milliseconds(100)
    public var maximumBackoff: Duration = .seconds(5)
    /// Each delay is scaled by a random factor in 1 ± jitter, so that instances that lost
    /// Redis together do not reconnect in lock step.
    public var jitter: Double = 0.5

    public init() {}
}

extension Duration {
    var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1000 + attoseconds / 1_000_000_000_000_000
    }

    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
