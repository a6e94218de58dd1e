import Dispatch

/// Who sent the request: a bearer token verified by `TokenVerifier` becomes the
/// request's `identity`; no `Authorization` header leaves it anonymous (the rules then
/// decide); a token that is not good is 401 whatever the route's rules.
///
/// A request that opens a stream may instead carry a stream ticket, `?ticket=`
/// (`StreamTickets`, checked here at once: an HMAC); any other request ignores the
/// parameter, and `?access_token=` is never read.
///
/// Only routes whose rules look at identity are concerned (collections, `/events`,
/// `/metrics`, `/auth/ticket`): `/healthz`, the spec, the client library and static
/// files stay open and ignore any header. A token seen before answers at once from the cache; a new one is
/// verified by jwt-kit, which is async: on `VerificationExecutor`, not the cooperative
/// pool, and the request then goes on from a Dispatch thread (the handlers read the
/// store, which never runs on the pool).
struct Authentication: Middleware {
    let verifier: TokenVerifier
    let tickets: StreamTickets

    static let routes: Set<String> = ["/metrics", "/events", "/{collection}", "/{collection}/{id}", "/auth/ticket"]

    func handle(_ request: RouteRequest, respond: @escaping Respond, next: @escaping Next) throws {
        guard request.method != "OPTIONS", Self.routes.contains(request.routeLabel) else { return next(request, respond) }
        let header = request.header("Authorization")
        if request.opensStream, let ticket = request.parameter("ticket") {
            guard header == nil else {
                // RFC 6750 §2: one way of sending credentials per request.
                var error = APIError.badRequest("send a bearer token or a ticket, not both", code: "two_credentials")
                error.headers = [("WWW-Authenticate", #"Bearer error="invalid_request""#)]
                throw error
            }
            var request = request
            request.identity = try tickets.verify(ticket).get()
            return next(request, respond)
        }
        guard let header else { return next(request, respond) }
        guard let token = Self.bearerToken(header) else {
            throw Unauthenticated("Authorization must be Bearer <JWT>")
        }
        if let identity = verifier.cached(token) {
            var request = request
            request.identity = identity
            return next(request, respond)
        }
        let verifier = self.verifier
        Task(executorPreference: VerificationExecutor.shared) {
            let result = await verifier.verify(token)
            DispatchQueue.global().async {
                switch result {
                case .success(let identity):
                    var request = request
                    request.identity = identity
                    next(request, respond)
                case .failure(let failure):
                    respond(request.errorResponse(failure))
                }
            }
        }
    }

    /// The token of `Bearer <token>` (RFC 6750 §2.1: the scheme is case-insensitive).
    /// It runs on every request: the usual spelling costs one `hasPrefix`. What the
    /// token holds is the verifier's business (a token with a space in it fails there).
    static func bearerToken(_ header: String) -> String? {
        var token: Substring
        if header.hasPrefix("Bearer ") {
            token = header.dropFirst(7)
        } else {
            guard let space = header.firstIndex(of: " "), header[..<space].lowercased() == "bearer" else { return nil }
            token = header[header.index(after: space)...]
        }
        while token.first == " " { token = token.dropFirst() }
        while token.last == " " { token = token.dropLast() }
        return token.isEmpty ? nil : String(token)
    }
}
