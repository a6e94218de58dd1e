/// The answers of DESIGN.md §5: 401 without a good token, 403 without the right.
extension APIError {
    /// 401 `unauthenticated` with `WWW-Authenticate: Bearer` (RFC 6750 §3), and
    /// `error="invalid_token"` when a token was sent and was not good.
    static func unauthenticated(_ failure: Unauthenticated) -> APIError {
        var error = APIError(401, "unauthenticated", failure.reason)
        error.headers = [("WWW-Authenticate", failure.tokenSent ? #"Bearer error="invalid_token""# : "Bearer")]
        return error
    }

    static func forbidden(_ message: String) -> APIError {
        APIError(403, "forbidden", message)
    }
}
