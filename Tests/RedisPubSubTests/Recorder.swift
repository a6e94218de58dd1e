import Foundation
import Synchronization

/// Collects what a link's callbacks report, and waits for a condition on it.
final class Recorder: Sendable {
    private let state = Mutex(State())

    struct State {
        var messages: [String] = []
        /// When each message reached the handler (latency without the test's polling).
        var arrivals: [ContinuousClock.Instant] = []
        var availability: [Bool] = []
    }

    var messages: [String] { state.withLock { $0.messages } }
    var availability: [Bool] { state.withLock { $0.availability } }

    var arrivals: [ContinuousClock.Instant] { state.withLock { $0.arrivals } }

    func message(_ message: String) {
        let now = ContinuousClock.now
        state.withLock {
            $0.messages.append(message)
            $0.arrivals.append(now)
        }
    }
    func available(_ up: Bool) { state.withLock { $0.availability.append(up) } }

    /// Polls `condition` every 5 ms until it holds (true) or `timeout` passes (false).
    func wait(timeout: Duration = .seconds(5), until condition: (State) -> Bool) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if state.withLock({ condition($0) }) { return true }
            Thread.sleep(forTimeInterval: 0.005)
        }
        return state.withLock { condition($0) }
    }
}

/// Polls `condition` every 5 ms until it holds or `timeout` passes.
func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.005)
    }
    return condition()
}
