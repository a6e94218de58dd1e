import Dispatch
import DocumentStore
import Foundation
import Logging
import Synchronization

/// The stream hub's chores, on timers: pings to quiet streams, the sweep for clients
/// that left, the watchdog for commits that a writer holds back by not taking its
/// answer, and pruning of the change log. All but pruning run on the fan-out's queue,
/// isolated to it; pruning takes the store's writer for a while, so it has its own
/// queue and fan-out goes on meanwhile (a replay checks that the log still reaches back).
final class StreamHousekeeping: Sendable {
    private let fanOut: StreamFanOut
    private let store: any DocumentStore
    private let options: StreamOptions
    private let logger: Logger
    private let pruner = DispatchQueue(label: "stream-hub.prune")
    private let timers = Mutex<[any DispatchSourceTimer]>([])

    /// Commits handed to the hub, and those whose deferred dispatch has run: a difference
    /// that outlives a sweep tick is a writer that is not taking its answer.
    let publishesStarted = Atomic<Int>(0)
    let publishesFinished = Atomic<Int>(0)
    /// `publishesStarted` at the previous sweep tick. (Only sweep ticks touch it.)
    private let publishesStartedAtLastTick = Atomic<Int>(0)
    /// Which twentieth of the streams the next sweep looks at. (Only sweep ticks touch it.)
    private let sweepSlice = Atomic<Int>(0)

    /// How often the hub looks for streams due a ping, in milliseconds.
    static let pingTick = 250

    /// How often the change log is pruned, in seconds: each prune is then a few seconds'
    /// writes at most, which it drops in a fraction of a second between them, and the
    /// log stays near `--retain-count` (figures: bench/NOTES.md#prune).
    static let pruneEvery = 10

    /// Every stream is looked at once in 2 s, a twentieth of them every 100 ms: with
    /// 10,000 streams that is 500 peeks at a time rather than a burst of 10,000 system
    /// calls that holds the hub's queue (and a core) for milliseconds.
    static let sweepSlices = 20

    init(fanOut: StreamFanOut, store: any DocumentStore, options: StreamOptions, logger: Logger) {
        self.fanOut = fanOut
        self.store = store
        self.options = options
        self.logger = logger
    }

    func start() {
        // Made and kept under the lock: a timer is not Sendable.
        timers.withLock { timers in
            // Pings go only to quiet streams: a stream that gets events needs none, so a
            // busy collection's 10,000 streams are not all woken again just to say that
            // they are alive.
            let heartbeat = DispatchSource.makeTimerSource(queue: fanOut.queue)
            heartbeat.schedule(deadline: .now() + .milliseconds(Self.pingTick), repeating: .milliseconds(Self.pingTick))
            heartbeat.setEventHandler { [weak self] in
                guard let self else { return }
                fanOut.assumeIsolated { ping($0) }
            }
            // Suspended sockets are not watched by libmicrohttpd: peek at them to find
            // clients that left, within a second or two.
            let sweep = DispatchSource.makeTimerSource(queue: fanOut.queue)
            let tick = DispatchTimeInterval.milliseconds(2000 / Self.sweepSlices)
            sweep.schedule(deadline: .now() + tick, repeating: tick)
            sweep.setEventHandler { [weak self] in
                guard let self else { return }
                fanOut.assumeIsolated { fanOut in
                    sweepDeadClients(fanOut)
                    publishStalledCommits(fanOut)
                }
            }
            let prune = DispatchSource.makeTimerSource(queue: pruner)
            prune.schedule(deadline: .now() + .seconds(Self.pruneEvery), repeating: .seconds(Self.pruneEvery))
            prune.setEventHandler { [weak self] in self?.pruneLog() }
            timers = [heartbeat, sweep, prune]
            for timer in timers { timer.resume() }
        }
        pruner.async { self.pruneLog() }  // at start too, so retention holds from the first moment
    }

    func stop() {
        timers.withLock { timers in
            for timer in timers { timer.cancel() }
            timers = []
        }
    }

    /// A ping to every stream that would otherwise be silent for longer than the
    /// heartbeat by the next look: a reader hears from the server at least once per
    /// heartbeat (the promise of `hello`), not up to a tick later.
    private func ping(_ fanOut: isolated StreamFanOut) {
        endExpired(fanOut)
        let now = ContinuousClock.now
        let quiet = Duration.seconds(options.heartbeat) - .milliseconds(Self.pingTick)
        let due = fanOut.subscribers.values.filter { now - $0.lastSent >= quiet }
        fanOut.deliver(due.map { ($0, SSEFrame.ping) }, at: now)
    }

    /// A stream lives as long as its token: past its expiry it gets `expired` and ends
    /// (a tick late at most); the client fetches a new token and resumes from its cursor.
    private func endExpired(_ fanOut: isolated StreamFanOut) {
        let now = Date()
        for subscriber in fanOut.subscribers.values {
            guard let expires = subscriber.subscription.expires, expires <= now else { continue }
            subscriber.stream.finish(SSEFrame.expired)
            fanOut.remove(subscriber.number)
        }
    }

    private func sweepDeadClients(_ fanOut: isolated StreamFanOut) {
        let slice = sweepSlice.load(ordering: .relaxed)
        sweepSlice.store((slice + 1) % Self.sweepSlices, ordering: .relaxed)
        for subscriber in fanOut.subscribers.values
        where subscriber.number % Self.sweepSlices == slice && subscriber.stream.clientHasGone() {
            subscriber.stream.abort()
            fanOut.remove(subscriber.number)
        }
    }

    /// A response is sent when the client takes it: a writer that stops reading an
    /// answer larger than the socket buffers would keep its commit from every stream
    /// until its connection timed out. When a deferred dispatch has been waiting since
    /// before the previous tick, the commits up to the store's head are read back from
    /// the log and fanned out now (the late dispatch then finds them done).
    private func publishStalledCommits(_ fanOut: isolated StreamFanOut) {
        let finished = publishesFinished.load(ordering: .relaxed)
        let startedBefore = publishesStartedAtLastTick.load(ordering: .relaxed)
        publishesStartedAtLastTick.store(publishesStarted.load(ordering: .relaxed), ordering: .relaxed)
        guard finished < startedBefore, let head = try? store.head().sequence, head > fanOut.dispatched else { return }
        fanOut.catchUp(upTo: head)
    }

    func pruneLog() {
        do {
            let dropped = try store.pruneLog(keep: options.retainCount, maxAge: options.retainSeconds)
            if dropped > 0 {
                fanOut.metrics.logPruned(dropped)
                logger.debug("pruned the change log", metadata: ["entries": "\(dropped)"])
            }
        } catch {
            logger.warning("change-log pruning failed", metadata: ["error": "\(error)"])
        }
    }
}
