import HTTPServer

/// The rest of the chain: the next middleware, or the route's handler.
typealias Next = @Sendable (_ request: RouteRequest, _ respond: @escaping Respond) -> Void

/// A step around every request: it may answer by itself, pass the request on, or pass
/// it on with a `respond` of its own that sees (and may change) the answer on its way
/// out. An error it throws becomes the request's JSON answer at this step.
/// Authorisation and rate limits slot in here.
protocol Middleware: Sendable {
    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws
}

/// A step that never answers by itself: it may name the request on its way in and adds
/// to every answer on its way out, at once. The router runs all of them, outside the
/// middleware, with one closure per request instead of one per step (each closure a
/// heap allocation and a copy of the request, on every request).
protocol AnswerDecorator: Sendable {
    /// Before the request goes on.
    func prepare(_ request: inout RouteRequest)
    /// The answer on its way out (the decorators run in reverse order here).
    func decorate(_ response: inout HTTPResponse, for request: RouteRequest)
}

extension AnswerDecorator {
    func prepare(_ request: inout RouteRequest) {}
}
