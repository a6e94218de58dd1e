import Dispatch
import DocumentStore
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Settings of the live streams.
public struct StreamOptions: Sendable {
    public var maxStreams: Int
    /// Seconds between `ping`s.
    public var heartbeat: Int
    /// Bytes an unread stream may hold before it is reset and closed.
    public var bufferBytes: Int
    /// Change-log retention: the newest `retainCount` entries, none older than `retainSeconds`.
    public var retainCount: Int
    public var retainSeconds: Int64

    public init(maxStreams: Int = 10_000, heartbeat: Int = 15, bufferBytes: Int = 256 * 1024,
                retainCount: Int = 100_000, retainSeconds: Int64 = 7 * 24 * 3600) {
        self.maxStreams = maxStreams
        self.heartbeat = heartbeat
        self.bufferBytes = bufferBytes
        self.retainCount = retainCount
        self.retainSeconds = retainSeconds
    }
}

/// Fans changes out to the open streams, in sequence order, with no gap and no
/// duplicate. Everything that touches subscribers runs on one serial queue, so a
/// subscription's replay from the change log and the live changes that arrive
/// meanwhile are ordered by construction: a new subscriber first catches up to what
/// the hub has dispatched, then takes every later change.
///
/// Writes never wait here: the store hands over each commit's changes and returns.
public final class StreamHub: Sendable {
    final class Subscriber {
        let number: Int
        let subscription: Subscription
        let stream: ResponseStream
        /// The newest sequence this subscriber has been given (or did not need).
        var position: Int64
        /// Still replaying from the log: live fan-out passes it by, the replay catches
        /// it up to the dispatched head, then it goes live.
        var catchingUp = true
        /// When the hub last gave it an event or a ping (a heartbeat goes to streams
        /// that have been quiet for the heartbeat period).
        var lastSent = ContinuousClock.now

        init(number: Int, subscription: Subscription, stream: ResponseStream, position: Int64) {
            self.number = number
            self.subscription = subscription
            self.stream = stream
            self.position = position
        }
    }

    /// State owned by `queue`.
    final class State: @unchecked Sendable {
        var subscribers: [Int: Subscriber] = [:]
        var byCollection: [String: [Int: Subscriber]] = [:]
        /// The newest sequence fanned out.
        var dispatched: Int64 = 0
        var closing = false
        var timers: [any DispatchSourceTimer] = []
        /// Which twentieth of the streams the next sweep looks at.
        var sweepSlice = 0
        /// `publishesStarted` at the previous sweep tick.
        var publishesStartedAtLastTick = 0
    }

    let store: any DocumentStore
    let options: StreamOptions
    let epoch: String
    let logger: Logger
    let metrics: ServerMetrics
    private let queue = DispatchQueue(label: "stream-hub")
    /// Pruning the change log takes the store's writer for a while: on its own queue, so
    /// that fan-out goes on meanwhile (a replay checks that the log still reaches back).
    private let pruner = DispatchQueue(label: "stream-hub.prune")
    private let state = State()
    /// Streams accepted and not yet ended (read without the queue, for the limit).
    let openCount = Atomic<Int>(0)
    private let nextNumber = Atomic<Int>(0)
    /// Commits handed to `publish` and the ones whose deferred dispatch has run: a
    /// difference that outlives a sweep tick is a writer that is not taking its answer.
    private let publishesStarted = Atomic<Int>(0)
    private let publishesFinished = Atomic<Int>(0)

    public init(store: any DocumentStore, options: StreamOptions, metrics: ServerMetrics, logger: Logger) throws(StoreError) {
        self.store = store
        self.options = options
        self.metrics = metrics
        self.logger = logger
        let head = try store.head()
        self.epoch = head.epoch
        state.dispatched = head.sequence
        store.onCommit { [weak self] changes in self?.publish(changes) }
        startTimers()
        pruner.async { self.pruneLog() }  // at start too, so retention holds from the first moment
    }

    // MARK: Publishing

    /// New commits, in sequence order. A gap (changes the hub never saw) is read back
    /// from the change log first.
    func publish(_ changes: [Change]) {
        // A write committed inside its own request handler (a lone write) is fanned out
        // once its response is sent; the hub reads back from the log any change that
        // reaches it out of order, and any that a writer holds back by not reading its
        // answer (`publishStalledCommits`).
        publishesStarted.add(1, ordering: .relaxed)
        AfterResponse.run {
            self.publishesFinished.add(1, ordering: .relaxed)
            self.queue.async { self.dispatch(changes) }
        }
    }

    /// A response is sent when the client takes it: a writer that stops reading an
    /// answer larger than the socket buffers would keep its commit from every stream
    /// until its connection timed out. When a deferred dispatch has been waiting since
    /// before the previous tick, the commits up to the store's head are read back from
    /// the log and fanned out now (the late dispatch then finds them done).
    private func publishStalledCommits() {
        let finished = publishesFinished.load(ordering: .relaxed)
        let startedBefore = state.publishesStartedAtLastTick
        state.publishesStartedAtLastTick = publishesStarted.load(ordering: .relaxed)
        guard finished < startedBefore, let head = try? store.head().sequence, head > state.dispatched else { return }
        catchUpFromLog(upTo: head)
    }

    private func dispatch(_ changes: [Change]) {
        for change in changes where change.sequence > state.dispatched {
            if change.sequence > state.dispatched + 1 { catchUpFromLog(upTo: change.sequence - 1) }
            fanOut(change)
        }
    }

    private func catchUpFromLog(upTo last: Int64) {
        while state.dispatched < last {
            guard let batch = try? store.changes(after: state.dispatched, limit: 1000), !batch.isEmpty else { return }
            for change in batch where change.sequence <= last { fanOut(change) }
            if batch.last!.sequence >= last { return }
        }
    }

    private func fanOut(_ change: Change) {
        state.dispatched = change.sequence
        guard let subscribers = state.byCollection[change.collection], !subscribers.isEmpty else { return }
        let frames = ChangeFrames(change, epoch: epoch)
        let now = ContinuousClock.now
        var sent = 0
        for subscriber in subscribers.values where !subscriber.catchingUp && subscriber.position < change.sequence {
            subscriber.position = change.sequence
            if let frame = subscriber.subscription.frame(for: frames) {
                deliver(frame, to: subscriber, at: now)
                sent += 1
            }
        }
        if sent > 0 { metrics.eventsSent(sent) }
    }

    private func deliver(_ frame: [UInt8], to subscriber: Subscriber, at now: ContinuousClock.Instant) {
        subscriber.lastSent = now
        let outcome = subscriber.stream.write(frame)
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
    private func endWithReset(_ subscriber: Subscriber, reason: String) {
        let head = ChangeCursor(epoch: epoch, sequence: state.dispatched)
        subscriber.stream.finish(SSEFrame.reset(reason: reason, head: head))
        remove(subscriber.number)
    }

    // MARK: Subscribing

    /// Adds a stream that has been told (in its `hello`) that it starts after `start`.
    /// Changes after `start` already dispatched are replayed from the log first.
    func subscribe(_ subscription: Subscription, stream: ResponseStream, start: Int64) {
        let number = nextNumber.add(1, ordering: .relaxed).newValue
        // Registered now, not on the queue: the client may leave before the queue runs.
        stream.onEnd { [weak self] in
            guard let self else { return }
            self.openCount.subtract(1, ordering: .relaxed)
            self.queue.async { self.remove(number) }
        }
        queue.async {
            guard !self.state.closing else {
                stream.finish(SSEFrame.bye)
                return
            }
            let subscriber = Subscriber(number: number, subscription: subscription, stream: stream, position: start)
            self.state.subscribers[number] = subscriber
            for collection in subscription.collections { self.state.byCollection[collection, default: [:]][number] = subscriber }
            self.replay(subscriber)
            self.metrics.setOpenStreams(self.state.subscribers.count)
        }
    }

    /// Replays the log after the subscriber's position, paced by its reader: it fills
    /// half the stream's buffer, waits for it to drain, goes on. A backlog larger than
    /// the buffer thus reaches a reader that keeps up, instead of overflowing it. When
    /// the replay reaches the dispatched head, the subscriber goes live.
    private func replay(_ subscriber: Subscriber) {
        guard state.subscribers[subscriber.number] != nil else { return }
        let highWater = max(1, options.bufferBytes / 2)
        var replayed = 0
        defer { if replayed > 0 { metrics.eventsReplayed(replayed) } }
        while subscriber.position < state.dispatched {
            if subscriber.stream.pendingCount >= highWater {
                return resumeReplay(subscriber, whenDrainedTo: highWater / 2)
            }
            let batch: [Change]
            do { batch = try store.changes(after: subscriber.position, limit: 200) } catch {
                logger.error("replay failed: \(error)")
                subscriber.stream.abort()
                remove(subscriber.number)
                return
            }
            // Pruning runs beside the replay: if it took entries the subscriber has not
            // had, the batch starts after a gap (or is empty). Checked after the read, so
            // a prune that came before it shows; the client is told to refetch, as for
            // a cursor that was too old from the start.
            if let bounds = try? store.logBounds(), !bounds.canResume(after: subscriber.position) {
                return endWithReset(subscriber, reason: "expired")
            }
            guard !batch.isEmpty else { break }
            for change in batch where change.sequence <= state.dispatched {
                if let frame = subscriber.subscription.frame(for: ChangeFrames(change, epoch: epoch)) {
                    switch subscriber.stream.write(frame) {
                    case .overflow:
                        // Larger than the room left: wait for an empty buffer, which
                        // takes a message of any size.
                        return resumeReplay(subscriber, whenDrainedTo: 0)
                    case .closed:
                        remove(subscriber.number)
                        return
                    case .none, .resume:
                        replayed += 1
                    }
                }
                subscriber.position = change.sequence
                if subscriber.stream.pendingCount >= highWater { break }
            }
            if batch.last!.sequence >= state.dispatched && subscriber.position >= batch.last!.sequence { break }
        }
        subscriber.position = max(subscriber.position, state.dispatched)
        subscriber.catchingUp = false
    }

    private func resumeReplay(_ subscriber: Subscriber, whenDrainedTo mark: Int) {
        let number = subscriber.number
        subscriber.stream.whenDrained(to: mark) { [weak self] in
            guard let self else { return }
            self.queue.async {
                // Gone meanwhile (closed, overflowed): nothing to resume.
                if let subscriber = self.state.subscribers[number] { self.replay(subscriber) }
            }
        }
    }

    private func remove(_ number: Int) {
        guard let subscriber = state.subscribers.removeValue(forKey: number) else { return }
        for collection in subscriber.subscription.collections {
            state.byCollection[collection]?.removeValue(forKey: number)
        }
        metrics.setOpenStreams(state.subscribers.count)
    }

    /// Takes a place for a new stream; false when `--max-streams` are open.
    func reserve() -> Bool {
        let now = openCount.add(1, ordering: .relaxed).newValue
        if now > options.maxStreams {
            openCount.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        openCount.subtract(1, ordering: .relaxed)
    }

    // MARK: Housekeeping

    private func startTimers() {
        // Pings go only to quiet streams: a stream that gets events needs none, so a busy
        // collection's 10,000 streams are not all woken again just to say that they are alive.
        let heartbeat = DispatchSource.makeTimerSource(queue: queue)
        heartbeat.schedule(deadline: .now() + .milliseconds(Self.pingTick), repeating: .milliseconds(Self.pingTick))
        heartbeat.setEventHandler { [weak self] in self?.ping() }
        // Suspended sockets are not watched by libmicrohttpd: peek at them to find
        // clients that left, within a second or two.
        let sweep = DispatchSource.makeTimerSource(queue: queue)
        let tick = DispatchTimeInterval.milliseconds(2000 / Self.sweepSlices)
        sweep.schedule(deadline: .now() + tick, repeating: tick)
        sweep.setEventHandler { [weak self] in
            self?.sweepDeadClients()
            self?.publishStalledCommits()
        }
        let prune = DispatchSource.makeTimerSource(queue: pruner)
        prune.schedule(deadline: .now() + .seconds(60), repeating: .seconds(60))
        prune.setEventHandler { [weak self] in self?.pruneLog() }
        for timer in [heartbeat, sweep, prune] { timer.resume() }
        state.timers = [heartbeat, sweep, prune]
    }

    /// How often the hub looks for streams due a ping, in milliseconds.
    static let pingTick = 250

    /// A ping to every stream that would otherwise be silent for longer than the
    /// heartbeat by the next look: a reader hears from the server at least once per
    /// heartbeat (the promise of `hello`), not up to a tick later.
    private func ping() {
        let now = ContinuousClock.now
        let quiet = Duration.seconds(options.heartbeat) - .milliseconds(Self.pingTick)
        for subscriber in state.subscribers.values where now - subscriber.lastSent >= quiet {
            deliver(SSEFrame.ping, to: subscriber, at: now)
        }
    }

    /// Every stream is looked at once in 2 s, a twentieth of them every 100 ms: with
    /// 10,000 streams that is 500 peeks at a time rather than a burst of 10,000 system
    /// calls that holds the hub's queue (and a core) for milliseconds.
    static let sweepSlices = 20

    private func sweepDeadClients() {
        let slice = state.sweepSlice
        state.sweepSlice = (slice + 1) % Self.sweepSlices
        for subscriber in state.subscribers.values
        where subscriber.number % Self.sweepSlices == slice && subscriber.stream.clientHasGone() {
            subscriber.stream.abort()
            remove(subscriber.number)
        }
    }

    func pruneLog() {
        do {
            let dropped = try store.pruneLog(keep: options.retainCount, maxAge: options.retainSeconds)
            if dropped > 0 { logger.debug("pruned \(dropped) change-log entries") }
        } catch {
            logger.warning("change-log pruning failed: \(error)")
        }
    }

    /// Sends `bye` to every stream and ends it; waits until they are gone (aborting
    /// the ones that do not drain in time), so the server can stop.
    public func shutdown(deadline: Duration = .seconds(2)) {
        queue.sync {
            for timer in state.timers { timer.cancel() }
            state.closing = true
            for subscriber in state.subscribers.values { subscriber.stream.finish(SSEFrame.bye) }
        }
        let end = ContinuousClock.now + deadline
        while openCount.load(ordering: .relaxed) > 0 && ContinuousClock.now < end {
            Thread.sleep(forTimeInterval: 0.02)
        }
        queue.sync {
            for subscriber in state.subscribers.values { subscriber.stream.abort() }
        }
        let hardEnd = ContinuousClock.now + .seconds(1)
        while openCount.load(ordering: .relaxed) > 0 && ContinuousClock.now < hardEnd {
            Thread.sleep(forTimeInterval: 0.02)
        }
    }
}
