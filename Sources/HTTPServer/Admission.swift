/// Which requests `MicroHTTPDServer.stop` waits for, as a pure state machine guarded by
/// the server's `admission` lock. A request counts from its headers until its answer
/// is sent (a stream: queued) or the request ends; once stopping, none is admitted any
/// more, so the count only falls, and the release that brings it to 0 wakes a waiting
/// `stop`.
struct Admission {
    /// No request is admitted any more (they are answered 503).
    private(set) var stopping = false
    /// Admitted requests whose answer is not yet sent.
    private(set) var pending = 0
    /// A `stop` sleeps until `pending` reaches 0 (or its deadline).
    private var stopWaits = false

    /// A request's headers arrived: false once stopping.
    mutating func admit() -> Bool {
        if stopping { return false }
        pending += 1
        return true
    }

    /// An admitted request's answer is sent (a stream: queued), or the request is gone. True when this
    /// was the last one a waiting `stop` was waiting for: wake it.
    mutating func release() -> Bool {
        precondition(pending > 0, "released a request that was not admitted")
        pending -= 1
        guard stopWaits, pending == 0 else { return false }
        stopWaits = false
        return true
    }

    /// Admit no more requests (`quiesce`).
    mutating func quiesce() {
        stopping = true
    }

    /// `stop` begins: true when it must wait for pending requests (it will be woken).
    mutating func beginStop() -> Bool {
        stopping = true
        stopWaits = pending > 0
        return stopWaits
    }

    /// `stop`'s deadline passed: a later release wakes nobody.
    mutating func stopGaveUp() {
        stopWaits = false
    }
}
