import Synchronization

/// SUBSCRIBE to one channel on a connection and thread of its own; `handler` is called
/// on that thread for each message, in the order Redis sent them (keep it short: the
/// next read waits for it).
///
/// Whatever is published while the link is down is lost: when `onAvailabilityChange`
/// reports `true` the subscription is already confirmed, so reading the log from that
/// callback on misses nothing.
///
/// A hung Redis (paused, or a dead peer whose socket stays open) is found by a PING: a
/// connection quiet for `idlePing` sends one (allowed in subscribe mode) and must hear
/// something within `commandTimeout`; reads wait in `poll`, never in a blocking `read`.
public final class RedisSubscriber: Sendable {
    public let channel: String
    private let worker: RedisWorker
    private let handler: @Sendable (String) -> Void
    private let onAvailabilityChange: (@Sendable (Bool, RedisError?) -> Void)?
    private let received = Atomic<Int>(0)

    public init(
        url: RedisURL, channel: String, options: RedisOptions = RedisOptions(),
        onAvailabilityChange: (@Sendable (Bool, RedisError?) -> Void)? = nil, handler: @escaping @Sendable (String) -> Void
    ) {
        self.channel = channel
        worker = RedisWorker(url: url, options: options)
        self.handler = handler
        self.onAvailabilityChange = onAvailabilityChange
    }

    public func start() { worker.start(self, name: "redis subscriber") }

    /// Ends the thread (promptly: its socket is shut down); safe to call twice. From the
    /// handler it does not wait for the thread, which ends after the handler returns.
    public func stop() { worker.stop() }

    /// Subscribed, and the server answered within the bound.
    public var isAvailable: Bool { worker.isAvailable }
    public var lastError: RedisError? { worker.lastError }

    public var statistics: RedisSubscriberStatistics {
        RedisSubscriberStatistics(received: received.load(ordering: .relaxed), reconnects: worker.reconnects.load(ordering: .relaxed))
    }

    func begin(_ connection: RedisConnection) throws(RedisError) {
        let reply = try connection.command(["SUBSCRIBE", channel]).orThrow()
        guard case .array(let parts) = reply, parts.first == .string("subscribe"), parts.count == 3 else {
            throw .unexpectedReply("to SUBSCRIBE: \(reply)")
        }
    }

    func serve(_ connection: RedisConnection) throws(RedisError) {
        let idlePing = worker.options.idlePing
        let answerBound = worker.options.commandTimeout
        var lastHeard = ContinuousClock.now
        var pingSent: ContinuousClock.Instant?
        while !worker.isStopped {
            while let reply = try connection.bufferedReply() {
                // Any traffic proves the server alive, the PING's answer or not.
                lastHeard = .now
                pingSent = nil
                try handle(reply)
            }
            let deadline = pingSent.map { $0 + answerBound } ?? lastHeard + idlePing
            if connection.waitReadable(timeout: ContinuousClock.now.duration(to: deadline)) {
                try connection.readAvailable()
            } else if ContinuousClock.now >= deadline {
                if pingSent != nil { throw .timeout("no answer to PING within \(answerBound)") }
                try connection.append(["PING"])
                try connection.flush()
                pingSent = .now
            }
        }
    }

    private func handle(_ reply: RedisReply) throws(RedisError) {
        guard case .array(let parts) = try reply.orThrow(), case .string(let kind)? = parts.first else {
            throw .unexpectedReply("in subscribe mode: \(reply)")
        }
        // "pong" answers the idle PING; "subscribe" confirmations need nothing.
        guard kind == "message", parts.count == 3, case .string(let message) = parts[2] else { return }
        received.add(1, ordering: .relaxed)
        handler(message)
    }

    func availabilityChanged(_ available: Bool, error: RedisError?) {
        onAvailabilityChange?(available, error)
    }
}

extension RedisSubscriber: RedisSession {}

public struct RedisSubscriberStatistics: Sendable, Equatable {
    /// Messages handed to the handler.
    public var received: Int
    /// Subscriptions made again after a failure.
    public var reconnects: Int
}
