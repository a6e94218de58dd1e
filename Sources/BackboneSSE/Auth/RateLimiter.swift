import HTTPServer
import Synchronization

/// How many requests each caller may make over a sliding window (`auth.rate_limit`: a
/// minute), keyed by user, or by address for anonymous callers.
///
/// A sliding-window counter rather than a log of timestamps: per key, the counts of
/// the current fixed window and of the one before it, the older one weighted by how
/// much of it the sliding window still covers. Two integers per caller instead of up
/// to `limit` timestamps, and off by at most the older window's uneven spread. Keys
/// idle for two windows are dropped, so memory follows the active callers.
final class RateLimiter: Sendable {
    enum Decision: Equatable {
        case allowed
        /// Refused: whole seconds until a request would be allowed again (`Retry-After`).
        case refused(retryAfter: Int)
    }

    private struct Counts {
        var windowStart: Int64
        var previous: Int
        var current: Int
    }

    private struct State {
        var counts: [String: Counts] = [:]
        var takesSinceSweep = 0
    }

    let limit: Int
    /// The window in nanoseconds.
    let window: Int64
    private let state = Mutex(State())

    init(limit: Int, window: Duration = .seconds(60)) {
        precondition(limit > 0)
        self.limit = limit
        self.window = Int64(window.nanoseconds)
    }

    /// Counts a request by `key` at `now` (monotonic nanoseconds), if it is allowed.
    func take(_ key: String, now: Int64) -> Decision {
        state.withLock { state in
            state.takesSinceSweep += 1
            if state.takesSinceSweep >= 4096 || state.counts.count > 100_000 {
                sweep(&state, now: now)
            }
            let start = now - now % window
            var counts = state.counts[key] ?? Counts(windowStart: start, previous: 0, current: 0)
            if counts.windowStart != start {
                counts.previous = counts.windowStart == start - window ? counts.current : 0
                counts.current = 0
                counts.windowStart = start
            }
            let elapsed = now - start
            if estimate(counts, elapsed: elapsed) + 1 > Double(limit) {
                state.counts[key] = counts
                return .refused(retryAfter: retryAfter(counts, elapsed: elapsed))
            }
            counts.current += 1
            state.counts[key] = counts
            return .allowed
        }
    }

    /// The requests the sliding window ending `elapsed` into the current window holds.
    private func estimate(_ counts: Counts, elapsed: Int64) -> Double {
        Double(counts.previous) * Double(window - elapsed) / Double(window) + Double(counts.current)
    }

    /// Seconds until the estimate, plus this request, fits under the limit.
    private func retryAfter(_ counts: Counts, elapsed: Int64) -> Int {
        let room = Double(limit - 1)
        var wait: Double
        if Double(counts.current) <= room {
            // Within this window, as the previous one's weight fades.
            let needed = (Double(counts.previous) - (room - Double(counts.current))) / Double(max(counts.previous, 1))
            wait = needed * Double(window) - Double(elapsed)
        } else {
            // Only once this window is the previous one and fades enough.
            let needed = (Double(counts.current) - room) / Double(counts.current)
            wait = Double(window - elapsed) + needed * Double(window)
        }
        wait = max(wait, 0)
        return max(1, Int((wait / 1e9).rounded(.up)))
    }

    private func sweep(_ state: inout State, now: Int64) {
        state.takesSinceSweep = 0
        let current = now - now % window
        state.counts = state.counts.filter { $0.value.windowStart >= current - window }
    }

    /// Callers with counts kept (for tests and metrics).
    var trackedKeys: Int { state.withLock { $0.counts.count } }
}
