import DocumentStore
import Foundation
import Logging
import RedisPubSub
import Synchronization

/// The feed of a server that shares its store with others through Redis (`--pubsub`):
/// this server's commits are announced on the store's channel, and an announcement
/// from another server makes the log polling feed read the log at once.
///
/// The log stays the truth: a message says only "the log has grown to N", and the
/// receiver reads the log (`LogPollingFeed`), which hands changes over in sequence order,
/// each once, whatever Redis drops, coalesces or repeats. The poll of the log keeps
/// running beside it as the safety net (`--mongo-poll`): a Redis away or hung costs at
/// most one poll interval of delay. When Redis comes back (its subscription confirmed),
/// the log is read once, for whatever was announced while it was away.
///
/// A message is `<server id> <sequence> <unix time, ms>`; a server skips its own.
public final class RedisChangeFeed: ChangeFeed, BrokerStatus {
    private let inner: LogPollingFeed
    private let pubsub: Mutex<RedisPubSub?> = Mutex(nil)
    private let url: RedisURL
    private let channel: String
    private let logger: Logger
    private let serverID = String(UInt64.random(in: 1...UInt64.max), radix: 36)
    private let lags = Mutex(PendingLags())

    /// - Parameters:
    ///   - upstream: this server's own commits (`StoreCommitFeed`).
    ///   - epoch: the store's epoch: two stores on one Redis never share a channel.
    public init(
        _ upstream: any ChangeFeed, store: any DocumentStore, epoch: String, url: RedisURL, poll interval: Double, logger: Logger
    ) {
        self.url = url
        self.channel = "backbone-sse:" + epoch
        self.logger = logger
        let announcer = AnnouncingFeed(upstream)
        inner = LogPollingFeed(announcer, store: store, every: interval, logger: logger)
        announcer.announce = { [weak self] sequence in self?.announce(sequence) }
    }

    public var kind: String { "redis" }

    public func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void) {
        let link = RedisPubSub(
            url: url, channel: channel, logger: logger,
            onAvailabilityChange: { [weak self] up in if up { self?.inner.logMayHaveGrown() } },
            onMessage: { [weak self] message in self?.heard(message) })
        pubsub.withLock { $0 = link }
        inner.start(after: position) { [weak self] changes in
            self?.handedOver(changes)
            receive(changes)
        }
        link.start()
    }

    public func stop() {
        inner.stop()
        let link = pubsub.withLock { link in
            defer { link = nil }
            return link
        }
        link?.stop()
    }

    // MARK: Messages

    private func announce(_ sequence: Int64) {
        let millis = Int64(Date().timeIntervalSince1970 * 1000)
        pubsub.withLock { $0 }?.publish("\(serverID) \(sequence) \(millis)")
    }

    private func heard(_ message: String) {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let sequence = Int64(parts[1]), let millis = Int64(parts[2]) else {
            // Not ours to read (another version, another program): the log will tell.
            inner.logMayHaveGrown()
            return
        }
        guard parts[0] != serverID else { return }
        lags.withLock { $0.announced(sequence, at: Double(millis) / 1000) }
        inner.logMayHaveGrown(through: sequence)
    }

    private func handedOver(_ changes: [Change]) {
        guard let last = changes.last?.sequence else { return }
        let now = Date().timeIntervalSince1970
        lags.withLock { $0.delivered(through: last, now: now) }
    }

    // MARK: BrokerStatus

    public var isAvailable: Bool { pubsub.withLock { $0 }?.isAvailable ?? false }

    public func statistics() -> [StoreStatistic] {
        let figures = pubsub.withLock { $0 }?.statistics
        return [
            StoreStatistic("published", help: "Commits announced on Redis", value: figures?.published ?? 0),
            StoreStatistic(
                "publish_dropped", help: "Announcements dropped while Redis was away (the log still has them)",
                value: figures?.publishDrops ?? 0),
            StoreStatistic("received", help: "Announcements received from Redis", value: figures?.received ?? 0),
            StoreStatistic("reconnects", help: "Connections to Redis made again after a failure", value: figures?.reconnects ?? 0),
            StoreStatistic(
                "log_fallbacks", help: "Polls of the change log that found changes no announcement had brought",
                value: inner.pollsThatFoundChanges),
        ]
    }

    public func takeLags() -> [Double] { lags.withLock { $0.take() } }
}

/// Passes this server's commits through and announces the last sequence of each batch.
private final class AnnouncingFeed: ChangeFeed {
    private let upstream: any ChangeFeed
    private let announcer = Mutex<(@Sendable (Int64) -> Void)?>(nil)

    init(_ upstream: any ChangeFeed) { self.upstream = upstream }

    var announce: (@Sendable (Int64) -> Void)? {
        get { announcer.withLock { $0 } }
        set { announcer.withLock { $0 = newValue } }
    }

    func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void) {
        upstream.start(after: position) { [weak self] changes in
            receive(changes)
            if let last = changes.last?.sequence { self?.announce?(last) }
        }
    }

    func stop() { upstream.stop() }
}

/// Announced sequences not yet handed over here, with when they were announced; and
/// the lags of those handed over since the last `take`. Bounded: a server that nobody
/// scrapes keeps the latest figures only.
struct PendingLags {
    private var pending: [(sequence: Int64, at: Double)] = []
    private var observed: [Double] = []
    /// The last sequence handed over: an announcement at or below it came too late
    /// to time anything (the poll of the log brought its change first).
    private var handedThrough: Int64 = 0
    static let bound = 4096

    mutating func announced(_ sequence: Int64, at time: Double) {
        guard sequence > handedThrough else { return }
        if let last = pending.last, last.sequence >= sequence { return }
        pending.append((sequence, time))
        if pending.count > Self.bound { pending.removeFirst(pending.count - Self.bound) }
    }

    mutating func delivered(through sequence: Int64, now: Double) {
        var handed = 0
        while handed < pending.count, pending[handed].sequence <= sequence {
            observed.append(max(0, now - pending[handed].at))
            handed += 1
        }
        pending.removeFirst(handed)
        handedThrough = max(handedThrough, sequence)
        if observed.count > Self.bound { observed.removeFirst(observed.count - Self.bound) }
    }

    mutating func take() -> [Double] {
        defer { observed = [] }
        return observed
    }
}
