import HTTPServer

/// Cross-origin access for the origins given with `--cors-origin` (`*` for any).
struct CORS: Sendable {
    let origins: Set<String>

    static let exposed = "X-Stream-Cursor, X-Total-Count, Link, ETag, Location"
    static let allowedHeaders = "Content-Type, X-Client-Id, If-Match, If-None-Match, X-HTTP-Method-Override, Last-Event-ID"

    var enabled: Bool { !origins.isEmpty }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin, enabled else { return nil }
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    func decorate(_ response: inout HTTPResponse, origin: String?) {
        guard let allowed = allowedOrigin(origin) else { return }
        response.headers.append(("Access-Control-Allow-Origin", allowed))
        response.headers.append(("Access-Control-Expose-Headers", Self.exposed))
        if allowed != "*" { response.headers.append(("Vary", "Origin")) }
    }

    /// The answer to `OPTIONS`: a preflight when it asks, the `Allow` list always.
    func preflight(_ request: HTTPRequest, allow: String) -> HTTPResponse {
        var response = HTTPResponse(status: 204, headers: [("Allow", allow)])
        if request.header("Access-Control-Request-Method") != nil, allowedOrigin(request.header("Origin")) != nil {
            response.headers.append(("Access-Control-Allow-Methods", allow))
            response.headers.append(("Access-Control-Allow-Headers", Self.allowedHeaders))
            response.headers.append(("Access-Control-Max-Age", "600"))
        }
        return response
    }
}
