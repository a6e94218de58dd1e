import Foundation
import HTTPServer
import Synchronization

/// The streams accepted and not yet ended, against `--max-streams`. Read without the
/// hub's queue (a request is admitted or refused at once); `shutdown` waits on it.
final class StreamAdmission: Sendable {
    let limit: Int
    private let open = Atomic<Int>(0)
    /// Signalled whenever a stream ends.
    private let ended = NSCondition()

    init(limit: Int) {
        self.limit = limit
    }

    var count: Int { open.load(ordering: .relaxed) }

    /// Takes a place for a new stream; false when `limit` are open.
    func reserve() -> Bool {
        if open.add(1, ordering: .relaxed).newValue > limit {
            open.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    /// Gives a place back: its stream ended, or never opened.
    func release() {
        open.subtract(1, ordering: .relaxed)
        // After the count: a waiter that saw the old count is waiting by the time this
        // takes the lock, and wakes.
        ended.lock()
        ended.broadcast()
        ended.unlock()
    }

    /// Waits until every place is given back, or the time is up.
    func waitUntilNoneOpen(for duration: Duration) {
        let end = Date(timeIntervalSinceNow: Double(duration.nanoseconds) / 1e9)
        ended.lock()
        defer { ended.unlock() }
        while count > 0 {
            if !ended.wait(until: end) { return }
        }
    }
}
