/// Why a request has no identity where it needs one: 401 `unauthenticated` with
/// `WWW-Authenticate: Bearer` (and `error="invalid_token"` when a token was sent). The
/// reason names what was wrong, never the token itself.
public struct Unauthenticated: Error, Sendable, Equatable {
    public let reason: String
    /// A token was sent (and was not good).
    public let tokenSent: Bool

    public init(_ reason: String, tokenSent: Bool = true) {
        self.reason = reason
        self.tokenSent = tokenSent
    }

    static let noToken = Unauthenticated("this needs a token: send Authorization: Bearer <JWT>", tokenSent: false)
}
