import Foundation

/// Who sent a request, from a verified token.
public struct Identity: Sendable, Equatable {
    /// The token's `sub`: what owner fields hold.
    public let subject: String
    /// The names in the configured roles claim.
    public let roles: Set<String>
    /// The token's `exp` (plus the leeway): past it the identity is no longer good.
    public let expires: Date

    public init(subject: String, roles: Set<String>, expires: Date) {
        self.subject = subject
        self.roles = roles
        self.expires = expires
    }
}
