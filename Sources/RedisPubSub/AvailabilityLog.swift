import Logging
import Synchronization

/// Folds the publisher's and the subscriber's availability into one, and logs its
/// changes only: up when both are up, down when either is down.
final class AvailabilityLog: Sendable {
    enum Link: String, Sendable { case publisher, subscriber }

    private let url: RedisURL
    private let logger: Logger
    private let onChange: (@Sendable (Bool) -> Void)?
    private let state = Mutex(State())

    private struct State {
        var links: [Link: Bool] = [:]
        var reported: Bool?
        var downSince: ContinuousClock.Instant?
    }

    init(url: RedisURL, logger: Logger, onChange: (@Sendable (Bool) -> Void)?) {
        self.url = url
        self.logger = logger
        self.onChange = onChange
    }

    func update(_ link: Link, up: Bool, error: RedisError?) {
        let (change, previous, downFor): (Bool?, Bool?, Duration?) = state.withLock { state in
            state.links[link] = up
            let now: Bool? =
                state.links.values.contains(false) ? false : state.links.count == 2 ? true : nil
            guard let now, now != state.reported else { return (nil, nil, nil) }
            let previous = state.reported
            state.reported = now
            var downFor: Duration?
            if now {
                downFor = state.downSince.map { ContinuousClock.now - $0 }
                state.downSince = nil
            } else {
                state.downSince = .now
            }
            return (now, previous, downFor)
        }
        guard let change else { return }
        if !change {
            // Once per outage; the retries that follow stay quiet.
            let reason = error.map { "\($0)" } ?? "unknown"
            logger.warning("Redis \(url) unavailable (\(link.rawValue): \(reason)); retrying with backoff")
        } else if previous == false {
            let after = downFor.map { " after \(Double($0.milliseconds / 100) / 10) s" } ?? ""
            logger.notice("Redis \(url) is back\(after)")
        } else {
            logger.info("Redis \(url) connected: publishing and subscribed")
        }
        onChange?(change)
    }
}
