import HTTPServer

/// Puts what the application knows of a request on its log line: the request id and the
/// route it matched. The HTTP server writes the line once the request is over (method,
/// target, status, duration, client address, `X-Client-Id` are its own); 5xx causes are
/// logged at error level where the error is rendered, `RouteRequest.errorResponse`.
struct RequestLogging: AnswerDecorator {
    func decorate(_ response: inout HTTPResponse, for request: RouteRequest) {
        // The line is written at info: below that level nobody reads the fields.
        guard request.app.logger.logLevel <= .info else { return }
        response.logFields = [("request.id", request.requestID), ("http.route", request.routeLabel)]
    }
}
