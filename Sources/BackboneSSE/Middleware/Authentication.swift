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
        // The parameter first: most requests have no query, and `opensStream` reads `Accept`.
        if let ticket = request.parameter("ticket"), request.opensStream {
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
    /// It runs on every request, so it works on the UTF-8 bytes (stepping over
    /// `Character`s costs grapheme breaking). What the token holds is the verifier's
    /// business (a token with a space in it fails there).
    static func bearerToken(_ header: String) -> String? {
        var header = header
        return header.withUTF8 { bytes -> String? in
            let scheme: StaticString = "bearer"
            guard let space = bytes.firstIndex(of: UInt8(ascii: " ")), space == scheme.utf8CodeUnitCount else { return nil }
            for i in 0..<space where bytes[i] | 0x20 != scheme.utf8Start[i] { return nil }
            var start = space + 1
            var end = bytes.count
            while start < end, bytes[start] == UInt8(ascii: " ") { start += 1 }
            while start < end, bytes[end - 1] == UInt8(ascii: " ") { end -= 1 }
            return start == end ? nil : String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self)
        }
    }
}
