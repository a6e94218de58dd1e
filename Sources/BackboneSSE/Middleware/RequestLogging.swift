import Logging

/// A debug line per answer with the request's method, route, status and time. (5xx
/// causes are logged at error level where the error is rendered, `RouteRequest.errorResponse`.)
struct RequestLogging: Middleware {
    let logger: Logger

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) {
        guard logger.logLevel <= .debug else { return next(request, respond) }
        next(request) { [logger] response in
            logger.debug(
                "answered",
                metadata: [
                    "request.id": "\(request.requestID)", "http.method": "\(request.method)", "http.route": "\(request.routeLabel)",
                    "http.status": "\(response.status)",
                    "duration.us": "\((ContinuousClock.now - request.http.startedAt).microseconds)",
                ])
            respond(response)
        }
    }
}
