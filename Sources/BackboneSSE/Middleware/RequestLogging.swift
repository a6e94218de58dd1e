/// Puts what the application knows of a request on its log line: the request id and the
/// route it matched. The HTTP server writes the line once the request is over (method,
/// target, status, duration, client address, `X-Client-Id` are its own); 5xx causes are
/// logged at error level where the error is rendered, `RouteRequest.errorResponse`.
struct RequestLogging: Middleware {
    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) {
        next(request) { response in
            var response = response
            response.logFields = [("request.id", request.requestID), ("http.route", request.routeLabel)]
            respond(response)
        }
    }
}
