import HTTPServer

/// Counts every answer in `/metrics` by route template, method and status, with its
/// latency, and every successful document write by collection and operation. Labels
/// come from closed sets (route templates, known methods), so no request can add series.
struct RequestMetrics: AnswerDecorator {
    let metrics: ServerMetrics

    func decorate(_ response: inout HTTPResponse, for request: RouteRequest) {
        // Compared, not hashed: one string comparison for the common methods, on every
        // request.
        let method: String
        let writes: Bool
        switch request.method {
        case "GET", "HEAD", "OPTIONS": (method, writes) = (request.method, false)
        case "POST", "PUT", "PATCH", "DELETE": (method, writes) = (request.method, true)
        default: (method, writes) = ("other", false)
        }
        metrics.request(
            route: request.routeLabel, method: method, status: response.status, duration: .now - request.http.startedAt)
        if writes, (200..<300).contains(response.status), let written = request.collection {
            metrics.documentWritten(collection: written.name, operation: method)
        }
    }
}
