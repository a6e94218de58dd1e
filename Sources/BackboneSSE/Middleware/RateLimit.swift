import Foundation

/// `auth.rate_limit`: reads (GET, HEAD) and writes (any other method but OPTIONS) per
/// user, or per address when anonymous, over a sliding minute; past a limit 429
/// `rate_limited` with `Retry-After`. After `Authentication` (it needs the user), on the
/// routes that look at identity (collections, `/events`, `/metrics`).
struct RateLimit: Middleware {
    let limits: AuthConfig.RateLimit
    let limiter = RateLimiter()

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws {
        guard request.method != "OPTIONS", Authentication.routes.contains(request.routeLabel) else {
            return next(request, respond)
        }
        let read = request.method == "GET" || request.method == "HEAD"
        guard let limit = read ? limits.reads : limits.writes else { return next(request, respond) }
        let caller = request.identity.map { "user:\($0.subject)" } ?? "address:\(request.http.clientAddress)"
        let key = (read ? "reads " : "writes ") + caller
        if let wait = limiter.admit(key, limit: limit, now: Date().timeIntervalSince1970) {
            var error = APIError(
                429, "rate_limited", "more than \(limit) \(read ? "reads" : "writes") a minute; retry in \(wait) s")
            error.headers = [("Retry-After", String(wait))]
            throw error
        }
        next(request, respond)
    }
}
