import Synchronization

/// The feed of one process: the store's own commits, as its `onCommit` hands them over,
/// on the thread that committed them (a lone write's own request thread, for SQLite).
/// Complete over a store that is its log's only writer; over a store shared with other
/// servers it passes over their sequences, and `LogPollingFeed` completes it.
///
/// A store has one `onCommit` listener: one such feed per store.
public final class StoreCommitFeed: ChangeFeed {
    private let store: any DocumentStore
    private let stopped = Atomic<Bool>(false)

    public init(_ store: any DocumentStore) {
        self.store = store
    }

    public func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void) {
        store.onCommit { [weak self] changes in
            guard let self, !stopped.load(ordering: .relaxed), let first = changes.first else { return }
            if first.sequence > position { return receive(changes) }
            // Committed before the position was read, and reported after.
            let later = changes.filter { $0.sequence > position }
            if !later.isEmpty { receive(later) }
        }
    }

    public func stop() {
        stopped.store(true, ordering: .relaxed)
    }
}
