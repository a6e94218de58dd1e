import CMicroHTTPD
import Synchronization

/// Hands a request's response back to the server, now or later, from any thread.
///
/// A handler that can answer at once calls `send` before it returns; one that waits
/// (a write queued for a batched commit) keeps the responder and calls `send` when the
/// answer is ready. In the second case the server suspends the libmicrohttpd connection
/// meanwhile, so no server thread waits. The transitions are `ResponderState`'s,
/// decided under the lock and acted on after it (but for the suspend, see
/// `handlerReturned`).
public final class Responder: Sendable {
    private let state = Mutex(ResponderState())
    /// The connection to resume when the answer comes after the handler returned.
    private let connection: ConnectionHandle

    init(connection: ConnectionHandle) {
        self.connection = connection
    }

    /// Answers the request. Only the first answer counts.
    public func send(_ response: HTTPResponse) {
        let action = state.withLock { $0.send(response) }
        switch action {
        case .none: break
        case .resume: MHD_resume_connection(connection.raw)
        }
    }

    /// Called by the server when the handler returned: the answer to queue now, or nil
    /// once the connection is suspended. The suspend runs inside the lock, unlike every
    /// other action: a `send` racing with us decides `.resume` only after the lock is
    /// released, so it resumes a connection that is really suspended (resuming one
    /// that is not is undefined behaviour in libmicrohttpd).
    func handlerReturned(suspend: () -> Void) -> HTTPResponse? {
        state.withLock { state -> HTTPResponse? in
            switch state.handlerReturned() {
            case .queue(let response):
                return response
            case .suspend:
                suspend()
                return nil
            }
        }
    }

    /// Called by the server when a suspended connection runs again.
    func takeResponse() -> HTTPResponse? {
        state.withLock { $0.takeResponse() }
    }
}
