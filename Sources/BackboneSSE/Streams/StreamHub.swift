import DocumentStore
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Fans changes out to the open streams, in sequence order, with no gap and no
/// duplicate. Changes come from a `ChangeFeed` (whichever the store's opener chose);
/// the streams' state lives in `StreamFanOut`, an actor on one serial queue; timers
/// are `StreamHousekeeping`'s. This is the front the handlers and the app use: stream
/// admission, subscribing, shutdown.
///
/// Writes never wait here: the feed hands over each commit's changes and returns.
public final class StreamHub: Sendable {
    let store: any DocumentStore
    let options: StreamOptions
    let epoch: String
    let logger: Logger
    let metrics: ServerMetrics
    private let feed: any ChangeFeed
    private let fanOut: StreamFanOut
    private let housekeeping: StreamHousekeeping
    let admission: StreamAdmission
    private let nextNumber = Atomic<Int>(0)

    /// `feed`: where the streams hear of commits; nil: the store's own
    /// (`StoreCommitFeed`), complete for a store that is its log's only writer. The
    /// store's opener says which feed a store needs (a MongoDB store shared by several
    /// servers: `LogPollingFeed`).
    public init(
        store: any DocumentStore, feed: (any ChangeFeed)? = nil, options: StreamOptions, metrics: ServerMetrics, logger: Logger
    ) throws(StoreError) {
        self.store = store
        self.options = options
        self.metrics = metrics
        self.logger = logger
        admission = StreamAdmission(limit: options.maxStreams)
        let head = try store.head()
        epoch = head.epoch
        fanOut = StreamFanOut(
            store: store, epoch: head.epoch, dispatched: head.sequence, options: options, metrics: metrics, logger: logger)
        housekeeping = StreamHousekeeping(fanOut: fanOut, store: store, options: options, logger: logger)
        self.feed = feed ?? StoreCommitFeed(store)
        self.feed.start(after: head.sequence) { [weak self] changes in self?.publish(changes) }
        housekeeping.start()
    }

    // MARK: Publishing

    /// New commits, in sequence order, from the feed.
    func publish(_ changes: [Change]) {
        // A write committed inside its own request handler (a lone write) is fanned out
        // once its response is sent; the fan-out reads back from the log any change that
        // reaches it out of order, and any that a writer holds back by not reading its
        // answer (`StreamHousekeeping.publishStalledCommits`).
        housekeeping.publishesStarted.add(1, ordering: .relaxed)
        AfterResponse.run { [housekeeping, fanOut] in
            housekeeping.publishesFinished.add(1, ordering: .relaxed)
            fanOut.enqueue { $0.dispatch(changes) }
        }
    }

    // MARK: Subscribing

    /// Adds a stream that has been told (in its `hello`) that it starts after `start`.
    /// Changes after `start` already dispatched are replayed from the log first.
    func subscribe(_ subscription: Subscription, stream: ResponseStream, start: Int64) {
        let number = nextNumber.add(1, ordering: .relaxed).newValue
        // Registered now, not on the queue: the client may leave before the queue runs.
        // (No weak capture of the hub: inlined into a caller, that drew a false "weak
        // reference will always be nil" from the optimizer.)
        stream.onEnd { [admission, weak fanOut] in
            admission.release()
            fanOut?.enqueue { $0.remove(number) }
        }
        fanOut.enqueue { $0.add(number: number, subscription: subscription, stream: stream, start: start) }
    }

    /// Takes a place for a new stream; false when `--max-streams` are open.
    func reserve() -> Bool {
        admission.reserve()
    }

    func release() {
        admission.release()
    }

    /// Says `bye` to the streams of `collections` (every stream when nil) and ends them:
    /// their clients come back from their cursor, and are let in under the rules then
    /// in force.
    func endStreams(of collections: Set<String>?) {
        fanOut.enqueue { $0.endStreams(of: collections) }
    }

    // MARK: Shutting down

    /// Sends `bye` to every stream and ends it; waits until they are gone (aborting
    /// the ones that do not drain in time), so the server can stop.
    public func shutdown(deadline: Duration = .seconds(2)) {
        feed.stop()
        housekeeping.stop()
        fanOut.sync { $0.close() }
        admission.waitUntilNoneOpen(for: deadline)
        fanOut.sync { $0.abortAll() }
        admission.waitUntilNoneOpen(for: .seconds(1))
    }
}
