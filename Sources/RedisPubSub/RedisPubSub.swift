import Logging

/// One process's link to the others: a publisher and a subscriber on one channel (the
/// server's `backbone-sse:<store epoch>`), with one availability and one log line per
/// change: a warning when Redis goes away (with the reason), a notice when it is back,
/// never one per message or per retry.
public final class RedisPubSub: Sendable {
    public let url: RedisURL
    public let channel: String
    private let publisher: RedisPublisher
    private let subscriber: RedisSubscriber
    private let availability: AvailabilityLog

    /// - Parameters:
    ///   - onMessage: each message on `channel` (the subscriber's thread, in order);
    ///     this process's own messages come back too.
    ///   - onAvailabilityChange: both links up (`true`, the subscription confirmed: read
    ///     the log from here on), or either down (`false`). Called on a link's thread.
    public init(
        url: RedisURL, channel: String, options: RedisOptions = RedisOptions(), logger: Logger,
        onAvailabilityChange: (@Sendable (Bool) -> Void)? = nil, onMessage: @escaping @Sendable (String) -> Void
    ) {
        self.url = url
        self.channel = channel
        let availability = AvailabilityLog(url: url, logger: logger, onChange: onAvailabilityChange)
        self.availability = availability
        publisher = RedisPublisher(url: url, options: options) { up, error in
            availability.update(.publisher, up: up, error: error)
        }
        subscriber = RedisSubscriber(
            url: url, channel: channel, options: options,
            onAvailabilityChange: { up, error in availability.update(.subscriber, up: up, error: error) }, handler: onMessage)
    }

    /// Starts both threads; returns at once (an unreachable Redis is logged, not thrown).
    public func start() {
        subscriber.start()
        publisher.start()
    }

    /// Ends both threads promptly; safe to call twice.
    public func stop() {
        publisher.stop()
        subscriber.stop()
    }

    /// Never blocks; coalesces and drops as `RedisPublisher.publish` documents.
    public func publish(_ message: String) { publisher.publish(message, to: channel) }

    public var isAvailable: Bool { publisher.isAvailable && subscriber.isAvailable }

    public var statistics: RedisPubSubStatistics {
        let published = publisher.statistics
        let subscribed = subscriber.statistics
        return RedisPubSubStatistics(
            published: published.published, publishDrops: published.drops, coalesced: published.coalesced,
            received: subscribed.received, reconnects: published.reconnects + subscribed.reconnects)
    }
}

public struct RedisPubSubStatistics: Sendable, Equatable {
    public var published: Int
    public var publishDrops: Int
    public var coalesced: Int
    public var received: Int
    /// Both links' reconnections.
    public var reconnects: Int
}
