/// What the service shows of a broker that links the servers sharing a store (Redis):
/// whether it is up, its counters, and how long changes took to cross between servers.
/// The broker only speeds delivery up; the change log stays the truth, so a broker
/// that is down makes a server slower to hear of others' changes, never wrong.
public protocol BrokerStatus: Sendable {
    /// Its kind, for `/healthz` and the logs, e.g. `redis`.
    var kind: String { get }
    var isAvailable: Bool { get }
    /// Counters that only grow, each reported as `backbone_sse_pubsub_<name>_total`.
    func statistics() -> [StoreStatistic]
    /// The cross-server delivery lags (seconds from the commit's announcement on its
    /// server to the hand-over here) observed since the last call.
    func takeLags() -> [Double]
}
