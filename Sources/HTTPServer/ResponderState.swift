/// The answer to one request, as a pure state machine in the manner of `StreamState`:
/// `Responder` calls a mutating method under its lock and performs the returned action.
/// No I/O here, so every transition is unit-tested (ResponderStateTests).
///
///     handling ──send──▶ ready ──handler returned──▶ delivered
///        │                 ▲                             ▲
///        │               send (resume)                   │
///        │                 │                             │
///        └─handler returned▶ suspended          ready ─takeResponse─┘
///
/// Only the first `send` counts: later ones, in any state, change nothing. The handler
/// returns exactly once; returning twice is a programmer error and traps.
struct ResponderState {
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

    enum SendAction: Equatable {
        case none
        /// The connection was suspended waiting for this answer: resume it.
        case resume
    }

    enum HandlerReturnedAction {
        /// The handler answered before returning: queue this now.
        case queue(HTTPResponse)
        /// No answer yet: suspend the connection until `send` resumes it.
        case suspend
    }

    private(set) var state: State = .handling

    /// An answer arrives (from any thread).
    mutating func send(_ response: HTTPResponse) -> SendAction {
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

    /// The handler returned, on the connection's thread.
    mutating func handlerReturned() -> HandlerReturnedAction {
        switch state {
        case .ready(let response):
            state = .delivered
            return .queue(response)
        case .handling:
            state = .suspended
            return .suspend
        case .suspended, .delivered:
            preconditionFailure("handler returned twice")
        }
    }

    /// The connection runs again after a suspend: the answer to queue, if there is one.
    mutating func takeResponse() -> HTTPResponse? {
        guard case .ready(let response) = state else { return nil }
        state = .delivered
        return response
    }
}
