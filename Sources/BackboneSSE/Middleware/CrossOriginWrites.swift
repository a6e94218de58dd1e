/// Refuses writes that a browser makes on behalf of another site. A page elsewhere can
/// send a "simple" cross-site request without asking first (a form post with `_method`,
/// `emulateJSON`'s `model=…`, `navigator.sendBeacon`): CORS keeps it from reading the
/// answer, not from having its effect. So a write (any method but GET, HEAD and
/// OPTIONS) whose `Origin` — or, without one, `Referer` — names a site that is neither
/// this server (its `Host`) nor allowed with `--cors-origin` is 403 `cross_origin`,
/// before it is read. A request with neither header comes from no browser page (curl,
/// a server) and is let through.
struct CrossOriginWrites: Middleware {
    let cors: CORSHeaders

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws {
        guard !Self.safeMethods.contains(request.http.method), let origin = Self.origin(of: request) else {
            return next(request, respond)
        }
        guard Self.isSameOrigin(origin, host: request.header("Host")) || cors.allowedOrigin(origin) != nil else {
            throw APIError(
                403, "cross_origin",
                "writes from \(origin) are not allowed: it is neither this server's origin nor one given with --cors-origin")
        }
        next(request, respond)
    }

    static let safeMethods: Set<String> = ["GET", "HEAD", "OPTIONS"]

    /// `Origin`, or the origin part (`scheme://host[:port]`) of `Referer`.
    static func origin(of request: RouteRequest) -> String? {
        if let origin = request.header("Origin") { return origin }
        guard let referer = request.header("Referer"), let schemeEnd = referer.range(of: "://") else { return nil }
        let rest = referer[schemeEnd.upperBound...]
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(referer[..<schemeEnd.upperBound]) + authority
    }

    /// `http(s)://HOST[:PORT]` naming the `Host` the request was sent to. (`Origin: null`,
    /// from sandboxed frames and local files, is no origin of this server's.)
    static func isSameOrigin(_ origin: String, host: String?) -> Bool {
        guard let host, !host.isEmpty else { return false }
        for scheme in ["http://", "https://"] where origin.lowercased().hasPrefix(scheme) {
            return origin.dropFirst(scheme.count).lowercased() == host.lowercased()
        }
        return false
    }
}
