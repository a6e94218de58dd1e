import HTTPServer

/// Counts every answer in `/metrics` by route template, method and status, with its
/// latency, and every successful document write by collection and operation. Labels
/// come from closed sets (route templates, known methods), so no request can add series.
struct RequestMetrics: AnswerDecorator {
    let metrics: ServerMetrics

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func decorate(_ response: inout HTTPResponse, for request: RouteRequest) {
        let method = Self.methods.contains(request.method) ? request.method : "other"
        metrics.request(
            route: request.routeLabel, method: method, status: response.status, duration: .now - request.http.startedAt)
        if Self.writeMethods.contains(method), (200..<300).contains(response.status), let written = request.collection {
            metrics.documentWritten(collection: written.name, operation: method)
        }
    }

    private static let writeMethods: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]
}
