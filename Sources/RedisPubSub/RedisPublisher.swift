import Synchronization

/// PUBLISH on a connection and thread of its own; `publish` never blocks its caller.
///
/// Semantics: a message is an announcement of the latest state of its channel ("the log
/// grew to sequence N"), not an event to deliver one by one. Messages wait in one slot
/// per channel while the thread sends the previous batch; a newer message for a channel
/// replaces the waiting one (counted in `coalesced`). A subscriber therefore sees, per
/// channel, a subsequence of what was published, in order, ending with the latest. While
/// Redis is unavailable messages are dropped (counted in `drops`): the store's change
/// log is the truth, and subscribers read it when the link comes back.
public final class RedisPublisher: Sendable {
    private let worker: RedisWorker
    private let waiting = Mutex(Waiting())
    private let onAvailabilityChange: (@Sendable (Bool, RedisError?) -> Void)?
    private let counters = Counters()

    private struct Waiting {
        var accepting = false
        var messages: [String: String] = [:]
    }

    private final class Counters: Sendable {
        let published = Atomic<Int>(0)
        let drops = Atomic<Int>(0)
        let coalesced = Atomic<Int>(0)
    }

    public init(url: RedisURL, options: RedisOptions = RedisOptions(), onAvailabilityChange: (@Sendable (Bool, RedisError?) -> Void)? = nil)
    {
        worker = RedisWorker(url: url, options: options)
        self.onAvailabilityChange = onAvailabilityChange
    }

    public func start() { worker.start(self, name: "redis publisher") }

    /// Ends the thread (promptly: a blocked read is shut down); safe to call twice. Later
    /// publishes are dropped and counted.
    public func stop() {
        worker.stop()
        waiting.withLock { waiting in
            waiting.accepting = false
            waiting.messages = [:]
        }
    }

    /// Connected, and the last command was answered in time.
    public var isAvailable: Bool { worker.isAvailable }
    /// Why the link last failed.
    public var lastError: RedisError? { worker.lastError }

    public var statistics: RedisPublisherStatistics {
        RedisPublisherStatistics(
            published: counters.published.load(ordering: .relaxed), drops: counters.drops.load(ordering: .relaxed),
            coalesced: counters.coalesced.load(ordering: .relaxed), reconnects: worker.reconnects.load(ordering: .relaxed))
    }

    /// Hands `message` to the publishing thread: a lock and a dictionary store, no I/O.
    public func publish(_ message: String, to channel: String) {
        let (queued, wasIdle) = waiting.withLock { waiting in
            guard waiting.accepting else { return (false, false) }
            let wasIdle = waiting.messages.isEmpty
            if waiting.messages.updateValue(message, forKey: channel) != nil {
                counters.coalesced.add(1, ordering: .relaxed)
            }
            return (true, wasIdle)
        }
        if !queued {
            counters.drops.add(1, ordering: .relaxed)
        } else if wasIdle {
            worker.wake.signal()
        }
    }

    func begin(_ connection: RedisConnection) throws(RedisError) {
        // A Redis paused with SIGSTOP still completes the TCP handshake (the kernel does):
        // only an answer proves it is there.
        _ = try connection.command(["PING"]).orThrow()
    }

    func serve(_ connection: RedisConnection) throws(RedisError) {
        var lastAnswer = ContinuousClock.now
        while !worker.isStopped {
            let batch = waiting.withLock { waiting in
                defer { waiting.messages = [:] }
                return waiting.messages
            }
            if batch.isEmpty {
                if ContinuousClock.now - lastAnswer >= worker.options.idlePing {
                    _ = try connection.command(["PING"]).orThrow()
                    lastAnswer = .now
                } else {
                    _ = worker.sleep(until: lastAnswer + worker.options.idlePing)
                }
                continue
            }
            try send(batch, on: connection)
            lastAnswer = .now
        }
    }

    /// One pipelined round trip for the batch; what was not answered counts as dropped.
    private func send(_ batch: [String: String], on connection: RedisConnection) throws(RedisError) {
        var answered = 0
        do throws(RedisError) {
            for (channel, message) in batch { try connection.append(["PUBLISH", channel, message]) }
            try connection.flush()
            for _ in batch {
                _ = try connection.reply().orThrow()
                answered += 1
                counters.published.add(1, ordering: .relaxed)
            }
        } catch {
            counters.drops.add(batch.count - answered, ordering: .relaxed)
            throw error
        }
    }

    func availabilityChanged(_ available: Bool, error: RedisError?) {
        let dropped = waiting.withLock { waiting in
            waiting.accepting = available
            defer { waiting.messages = [:] }
            return available ? 0 : waiting.messages.count
        }
        counters.drops.add(dropped, ordering: .relaxed)
        onAvailabilityChange?(available, error)
    }
}

extension RedisPublisher: RedisSession {}

public struct RedisPublisherStatistics: Sendable, Equatable {
    /// PUBLISH commands Redis answered.
    public var published: Int
    /// Messages dropped because Redis was unavailable, or failed before answering.
    public var drops: Int
    /// Messages replaced by a newer one for the same channel before being sent.
    public var coalesced: Int
    /// Connections made again after a failure.
    public var reconnects: Int
}
