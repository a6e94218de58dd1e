import Dispatch
import Synchronization

/// Calls `start` with a completion handler and blocks the calling thread until that
/// handler is called, then returns the value it was given: for tests of callback APIs
/// such as `DocumentStore.write`. The handler may be called on any thread, or before
/// `start` returns; only its first call counts.
///
///     let result = waitFor { store.write(request, completion: $0) }
///
/// Never call it on Swift's cooperative pool (it blocks a thread).
public func waitFor<T: Sendable>(_ start: (@escaping @Sendable (T) -> Void) -> Void) -> T {
    let answer = Answer<T>()
    start { value in
        if answer.value.withLock({ slot in
            guard slot == nil else { return false }
            slot = value
            return true
        }) {
            answer.done.signal()
        }
    }
    answer.done.wait()
    return answer.value.withLock { $0! }
}

/// The answer `waitFor` waits for, shared with the completion handler.
private final class Answer<T: Sendable>: Sendable {
    let value = Mutex<T?>(nil)
    let done = DispatchSemaphore(value: 0)
}
