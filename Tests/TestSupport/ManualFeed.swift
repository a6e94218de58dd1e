import DocumentStore
import Synchronization

/// A `ChangeFeed` the test drives: it hands over exactly the batches given to `send`
/// (a store's own commits are not listened to).
public final class ManualFeed: ChangeFeed {
    private struct Receiver {
        let receive: @Sendable ([Change]) -> Void
    }

    private let state = Mutex<(receiver: Receiver?, position: Int64?)>((nil, nil))

    public init() {}

    public func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void) {
        state.withLock { $0 = (Receiver(receive: receive), position) }
    }

    public func stop() {
        state.withLock { $0.receiver = nil }
    }

    /// The position `start` was given; nil before it.
    public var startedAfter: Int64? { state.withLock { $0.position } }

    public func send(_ changes: [Change]) {
        state.withLock { $0.receiver }?.receive(changes)
    }
}
