import HTTPServer

/// Cross-origin access for the origins given with `--cors-origin` (`*` for any): every
/// answer to an allowed origin says so and exposes the headers the client library
/// reads; a preflight (`OPTIONS` with `Access-Control-Request-Method`) is allowed the
/// path's methods and the client's headers.
struct CORSHeaders: AnswerDecorator {
    let origins: Set<String>

    static let exposed = "X-Stream-Cursor, X-Total-Count, Link, ETag, Location, X-Request-Id, WWW-Authenticate"
    // Authorization: bearer tokens (an explicit name: `*` would not cover it).
    static let allowedHeaders =
        "Content-Type, Authorization, X-Client-Id, If-Match, If-None-Match, X-HTTP-Method-Override, Last-Event-ID"

    func decorate(_ response: inout HTTPResponse, for request: RouteRequest) {
        guard !origins.isEmpty else { return }
        guard let allowed = allowedOrigin(request.header("Origin")) else {
            // Answers differ by Origin when only some origins are allowed: say so to
            // caches on every answer, not only on the allowed origins'.
            if variesByOrigin { response.headers.append(("Vary", "Origin")) }
            return
        }
        let preflight = request.method == "OPTIONS" && request.header("Access-Control-Request-Method") != nil
        if preflight, response.status == 204, let allow = response.header("Allow") {
            response.headers.append(("Access-Control-Allow-Methods", allow))
            response.headers.append(("Access-Control-Allow-Headers", Self.allowedHeaders))
            response.headers.append(("Access-Control-Max-Age", "600"))
        }
        Self.decorate(&response, allowed: allowed)
    }

    /// Some origins are allowed, not all (`*`).
    var variesByOrigin: Bool { !origins.isEmpty && !origins.contains("*") }

    /// The `Access-Control-Allow-Origin` value for a request's `Origin`, if allowed.
    func allowedOrigin(_ origin: String?) -> String? {
        guard let origin, !origins.isEmpty else { return nil }
        if origins.contains("*") { return "*" }
        return origins.contains(origin) ? origin : nil
    }

    /// The answers the HTTP server gives by itself (413) get the same headers.
    func decorate(_ response: inout HTTPResponse, origin: String?) {
        guard let allowed = allowedOrigin(origin) else { return }
        Self.decorate(&response, allowed: allowed)
    }

    private static func decorate(_ response: inout HTTPResponse, allowed: String) {
        response.headers.append(("Access-Control-Allow-Origin", allowed))
        response.headers.append(("Access-Control-Expose-Headers", exposed))
        if allowed != "*" { response.headers.append(("Vary", "Origin")) }
    }
}
