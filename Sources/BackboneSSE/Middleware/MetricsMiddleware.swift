/// Counts every answer in `/metrics` by route template, method and status, with its
/// latency, and every successful document write by collection and operation. Labels
/// come from closed sets (route templates, known methods), so no request can add series.
struct MetricsMiddleware: Middleware {
    let metrics: ServerMetrics

    static let methods: Set<String> = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) {
        let method = Self.methods.contains(request.method) ? request.method : "other"
        let route = request.routeLabel
        let written = Self.writeMethods.contains(method) ? request.collection?.name : nil
        let startedAt = request.http.startedAt
        next(request) { [metrics] response in
            metrics.request(route: route, method: method, status: response.status, duration: .now - startedAt)
            if let written, (200..<300).contains(response.status) {
                metrics.documentWritten(collection: written, operation: method)
            }
            respond(response)
        }
    }

    private static let writeMethods: Set<String> = ["POST", "PUT", "PATCH", "DELETE"]
}
