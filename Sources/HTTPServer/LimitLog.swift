import Foundation
import Logging
import Synchronization

/// Logs when a protective limit bites, at most one line per limit per `interval`; the
/// line counts the bites since the previous one. A flood of refused connections thus
/// costs a line every ten seconds, not one per connection.
final class LimitLog: Sendable {
    enum Limit: String, CaseIterable, Sendable {
        /// libmicrohttpd refused a connection: per-address cap (or the total limit).
        case connectionLimit = "connection_limit"
        /// A request did not arrive whole within the request timeout.
        case requestTimeout = "request_timeout"
    }

    private struct Tally {
        var unlogged = 0
        var lastLine: ContinuousClock.Instant?
    }

    let logger: Logger
    let interval: Duration
    private let tallies = Mutex<[Limit: Tally]>([:])

    init(logger: Logger, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.interval = interval
    }

    /// `count` more bites of `limit`: logs now unless a line was written less than
    /// `interval` ago (then the count waits for the next line, or `flush`).
    func note(_ limit: Limit, count: Int = 1) {
        let due = tallies.withLock { tallies in
            var tally = tallies[limit, default: Tally()]
            tally.unlogged += count
            defer { tallies[limit] = tally }
            return Self.take(&tally, now: .now, interval: interval)
        }
        if let due { write(limit, count: due) }
    }

    /// Writes the lines whose interval has passed with bites still uncounted.
    func flush() {
        let now = ContinuousClock.now
        let due = tallies.withLock { tallies in
            var due: [(Limit, Int)] = []
            for limit in Limit.allCases {
                guard var tally = tallies[limit] else { continue }
                if let count = Self.take(&tally, now: now, interval: interval) { due.append((limit, count)) }
                tallies[limit] = tally
            }
            return due
        }
        for (limit, count) in due { write(limit, count: count) }
    }

    private static func take(_ tally: inout Tally, now: ContinuousClock.Instant, interval: Duration) -> Int? {
        guard tally.unlogged > 0 else { return nil }
        if let last = tally.lastLine, now - last < interval { return nil }
        defer {
            tally.unlogged = 0
            tally.lastLine = now
        }
        return tally.unlogged
    }

    private func write(_ limit: Limit, count: Int) {
        let message: Logger.Message =
            switch limit {
            case .connectionLimit: "connections refused: per-address or total connection limit reached"
            case .requestTimeout: "connections closed: request not received within the request timeout"
            }
        logger.warning(
            message,
            metadata: [
                "limit": "\(limit.rawValue)", "limit.count": "\(count)",
                "limit.window_s": "\(interval.components.seconds)",
            ])
    }
}
