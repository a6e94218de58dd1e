import JWTKit

/// The registered claims the server reads. jwt-kit checks the signature before it
/// decodes them; their values (expiry, issuer, audience) are checked by
/// `TokenVerifier`, which knows the configured leeway, issuer and audience.
struct TokenClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    /// Nothing here: see `TokenVerifier.check`.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
