/// The rest of the chain: the next middleware, or the route's handler.
typealias Next = @Sendable (_ request: RouteRequest, _ respond: @escaping Respond) -> Void

/// A step around every request: it may answer by itself, pass the request on, or pass
/// it on with a `respond` of its own that sees (and may change) the answer on its way
/// out. An error it throws becomes the request's JSON answer at this step.
/// Authorisation and rate limits slot in here.
protocol Middleware: Sendable {
    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws
}
