import Foundation
import DocumentStore
import Synchronization

/// Requests per caller over a sliding minute (DESIGN.md §5), counted the cheap usual
/// way: this minute's count plus the previous minute's, weighted by how much of the
/// previous minute the sliding window still covers. One small record per caller;
/// records two minutes old are dropped once a minute.
final class RateLimiter: Sendable {
    private struct Window {
        var minute: Int64
        var current: Int
        var previous: Int
    }

    private struct State {
        var windows: [ExactText: Window] = [:]
        var prunedAt: Int64 = 0
    }

    private let state = Mutex(State())

    /// Counts a request of `key` against `limit` a minute: nil when it may go on, else
    /// the whole seconds to wait before one would be admitted (at least 1).
    /// `now`: seconds since any fixed origin (the Unix epoch in use).
    func admit(_ key: String, limit: Int, now: Double) -> Int? {
        let minute = Int64((now / 60).rounded(.down))
        let fraction = now / 60 - Double(minute)
        return state.withLock { state in
            if state.prunedAt != minute {
                state.prunedAt = minute
                state.windows = state.windows.filter { $0.value.minute >= minute - 1 }
            }
            let key = ExactText(key)
            var window = state.windows[key] ?? Window(minute: minute, current: 0, previous: 0)
            if window.minute != minute {
                window.previous = window.minute == minute - 1 ? window.current : 0
                window.current = 0
                window.minute = minute
            }
            defer { state.windows[key] = window }
            let estimate = Double(window.previous) * (1 - fraction) + Double(window.current)
            guard estimate + 1 > Double(limit) else {
                window.current += 1
                return nil
            }
            return Self.wait(previous: window.previous, current: window.current, limit: limit, fraction: fraction)
        }
    }

    var trackedCallers: Int { state.withLock { $0.windows.count } }

    /// Seconds until `previous·(1−f) + current + 1 ≤ limit` holds again.
    static func wait(previous: Int, current: Int, limit: Int, fraction: Double) -> Int {
        let minutes: Double
        if current + 1 <= limit, previous > 0 {
            // This minute has room: wait for the previous one to slide out far enough.
            minutes = max(0, 1 - Double(limit - current - 1) / Double(previous) - fraction)
        } else {
            // Wait for the next minute, then for this one to slide out far enough.
            minutes = (1 - fraction) + max(0, 1 - Double(limit - 1) / Double(max(current, 1)))
        }
        // Less a hair: 4/3 of a minute is 80 s, not the 81 its rounding error would give.
        return max(1, Int((minutes * 60 - 1e-6).rounded(.up)))
    }
}
