import Synchronization

/// Hands a request's response back to the server, now or later, from any thread.
///
/// A handler that can answer at once calls `send` before it returns; one that waits
/// (a write queued for a batched commit) keeps the responder and calls `send` when the
/// answer is ready. In the second case the server suspends the libmicrohttpd connection
/// meanwhile, so no server thread waits.
public final class Responder: Sendable {
    /// The states of one request's answer. Decided under the lock, acted on after it.
    enum State {
        /// The handler is running and has not answered.
        case handling
        /// The handler returned without an answer: the connection is suspended.
        case suspended
        /// An answer is ready and the connection is (or will be) running to queue it.
        case ready(HTTPResponse)
        /// The answer was handed to libmicrohttpd.
        case delivered
    }

    enum SendAction {
        case none
        case resume
    }

    enum AfterHandlerAction {
        case queue(HTTPResponse)
        case suspend
    }

    private let state = Mutex<State>(.handling)
    private let resume: @Sendable () -> Void

    init(resume: @escaping @Sendable () -> Void) {
        self.resume = resume
    }

    /// Answers the request. Only the first answer counts.
    public func send(_ response: HTTPResponse) {
        let action: SendAction = state.withLock { state in
            switch state {
            case .handling:
                state = .ready(response)
                return .none
            case .suspended:
                state = .ready(response)
                return .resume
            case .ready, .delivered:
                return .none
            }
        }
        if case .resume = action { resume() }
    }

    /// Called by the server when the handler returned. With `.suspend` the caller
    /// must suspend the connection while still holding the decision, which is why
    /// `suspend` runs inside the lock: a `send` racing with us then resumes only a
    /// connection that is really suspended.
    func handlerReturned(suspend: () -> Void) -> HTTPResponse? {
        state.withLock { state in
            switch state {
            case .ready(let response):
                state = .delivered
                return response
            case .handling:
                state = .suspended
                suspend()
                return nil
            case .suspended, .delivered:
                preconditionFailure("handler returned twice")
            }
        }
    }

    /// Called by the server when a suspended connection runs again.
    func takeResponse() -> HTTPResponse? {
        state.withLock { state in
            if case .ready(let response) = state {
                state = .delivered
                return response
            }
            return nil
        }
    }
}
