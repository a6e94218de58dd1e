import Dispatch
import DocumentStore
import HTTPServer
import Logging

/// The open streams and what each has been given: the state of the stream hub, in an
/// actor whose executor is one serial queue. A subscription's replay from the change
/// log and the live changes that arrive meanwhile are thus ordered by construction: a
/// new subscriber first catches up to what has been dispatched, then takes every later
/// change.
///
/// The hub's callers are not async (the feed's thread, libmicrohttpd's, timers): they
/// reach the state through `enqueue`/`sync`, which run on the queue and are isolated
/// to the actor there (`assumeIsolated`, checked at run time). No task per event: a
/// write reaching 10,000 streams is one block on the queue, as before.
actor StreamFanOut {
    /// One open stream. Reachable only from the actor.
    final class Subscriber {
        let number: Int
        let subscription: Subscription
        let stream: ResponseStream
        /// The newest sequence this subscriber has been given (or did not need).
        var position: Int64
        /// Still replaying from the log: live fan-out passes it by, the replay catches
        /// it up to the dispatched head, then it goes live.
        var catchingUp = true
        /// When it was last given an event or a ping (a heartbeat goes to streams that
        /// have been quiet for the heartbeat period).
        var lastSent = ContinuousClock.now

        init(number: Int, subscription: Subscription, stream: ResponseStream, position: Int64) {
            self.number = number
            self.subscription = subscription
            self.stream = stream
            self.position = position
        }
    }

    let store: any DocumentStore
    let epoch: String
    let options: StreamOptions
    let metrics: ServerMetrics
    let logger: Logger
    let queue = DispatchQueue(label: "stream-hub")
    private let executor: QueueExecutor

    var subscribers: [Int: Subscriber] = [:]
    var byCollection: [String: [Int: Subscriber]] = [:]
    /// The newest sequence fanned out.
    var dispatched: Int64
    /// Shutting down: new subscribers get `bye` at once.
    var closing = false

    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    init(store: any DocumentStore, epoch: String, dispatched: Int64, options: StreamOptions, metrics: ServerMetrics, logger: Logger) {
        self.store = store
        self.epoch = epoch
        self.dispatched = dispatched
        self.options = options
        self.metrics = metrics
        self.logger = logger
        executor = QueueExecutor(queue)
    }

    /// Runs `work` on the queue, isolated to the fan-out, later.
    nonisolated func enqueue(_ work: @escaping @Sendable (isolated StreamFanOut) -> Void) {
        queue.async { self.assumeIsolated(work) }
    }

    /// Runs `work` on the queue, isolated to the fan-out, and waits for it. Never from
    /// the queue itself.
    nonisolated func sync<T: Sendable>(_ work: (isolated StreamFanOut) -> T) -> T {
        queue.sync { self.assumeIsolated(work) }
    }

    // MARK: Dispatching

    /// New commits, in sequence order. A gap (changes the hub never saw: batches that the
    /// hub's deferral reordered, or a feed that is not complete) is read from the log first.
    func dispatch(_ changes: [Change]) {
        for change in changes where change.sequence > dispatched {
            if change.sequence > dispatched + 1 { catchUp(upTo: change.sequence - 1) }
            fanOut(change)
        }
    }

    /// Reads the log after the dispatched head up to `last` and fans it out.
    func catchUp(upTo last: Int64) {
        while dispatched < last {
            guard let batch = try? store.changes(after: dispatched, limit: 1000), !batch.isEmpty else { return }
            for change in batch where change.sequence <= last { fanOut(change) }
            if batch.last!.sequence >= last { return }
        }
    }

    private func fanOut(_ change: Change) {
        dispatched = change.sequence
        guard let subscribers = byCollection[change.collection], !subscribers.isEmpty else { return }
        let frames = ChangeFrames(change, epoch: epoch)
        var deliveries: [(subscriber: Subscriber, frame: [UInt8])] = []
        for subscriber in subscribers.values where !subscriber.catchingUp && subscriber.position < change.sequence {
            subscriber.position = change.sequence
            if let frame = subscriber.subscription.frame(for: frames) { deliveries.append((subscriber, frame)) }
        }
        deliver(deliveries, at: .now)
        if !deliveries.isEmpty { metrics.eventsSent(deliveries.count) }
    }

    /// Writes each frame to its subscriber's stream (`ResponseStream.write(_:)` spreads
    /// many over the cores), then acts on what the writes found.
    func deliver(_ deliveries: [(subscriber: Subscriber, frame: [UInt8])], at now: ContinuousClock.Instant) {
        guard !deliveries.isEmpty else { return }
        for delivery in deliveries { delivery.subscriber.lastSent = now }
        let outcomes = ResponseStream.write(deliveries.map { ($0.subscriber.stream, $0.frame) })
        for (index, outcome) in outcomes { settle(outcome, of: deliveries[index].subscriber) }
    }

    /// What a write's outcome means for its subscriber.
    private func settle(_ outcome: StreamState.WriteAction, of subscriber: Subscriber) {
        if outcome == .closed {
            remove(subscriber.number)  // ended before it was registered, or finishing
        } else if outcome == .overflow {
            // A reader this far behind would slow nobody but itself, yet hold memory:
            // tell it to refetch, and close. Its reconnect resumes from the log.
            metrics.streamOverflowed()
            endWithReset(subscriber, reason: "overflow")
        }
    }

    /// Tells the subscriber to refetch (`reset`, with the dispatched head as its id), ends
    /// its stream and drops it.
    func endWithReset(_ subscriber: Subscriber, reason: String) {
        let head = ChangeCursor(epoch: epoch, sequence: dispatched)
        subscriber.stream.finish(SSEFrame.reset(reason: reason, head: head))
        remove(subscriber.number)
    }

    // MARK: Subscribers

    /// Adds a stream that has been told (in its `hello`) that it starts after `start`,
    /// and replays what was dispatched after that.
    func add(number: Int, subscription: Subscription, stream: ResponseStream, start: Int64) {
        guard !closing else {
            stream.finish(SSEFrame.bye)
            return
        }
        let subscriber = Subscriber(number: number, subscription: subscription, stream: stream, position: start)
        subscribers[number] = subscriber
        for collection in subscription.collections { byCollection[collection, default: [:]][number] = subscriber }
        replay(subscriber)
        metrics.setOpenStreams(subscribers.count)
    }

    func remove(_ number: Int) {
        guard let subscriber = subscribers.removeValue(forKey: number) else { return }
        for collection in subscriber.subscription.collections {
            byCollection[collection]?.removeValue(forKey: number)
        }
        metrics.setOpenStreams(subscribers.count)
    }

    /// Says `bye` to every stream and ends it; later subscribers get it at once.
    func close() {
        closing = true
        for subscriber in subscribers.values { subscriber.stream.finish(SSEFrame.bye) }
    }

    /// Says `bye` to the streams of `collections` (all when nil), and drops them.
    func endStreams(of collections: Set<String>?) {
        let ending = subscribers.values.filter { subscriber in
            collections.map { !$0.isDisjoint(with: subscriber.subscription.collections) } ?? true
        }
        for subscriber in ending {
            subscriber.stream.finish(SSEFrame.bye)
            remove(subscriber.number)
        }
    }

    /// Ends the streams that did not drain their `bye` in time.
    func abortAll() {
        for subscriber in subscribers.values { subscriber.stream.abort() }
    }
}
