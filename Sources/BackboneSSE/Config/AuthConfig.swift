import Foundation

/// The `auth` block of DESIGN.md §5, its keys already read (the secret from its
/// variable, the PEM files from disk) and checked, so that a server that starts can
/// verify tokens.
public struct AuthConfig: Sendable {
    public var keys: [VerificationKey]
    /// `iss` must equal it, when set.
    public var issuer: String?
    /// `aud` must contain it, when set.
    public var audience: String?
    /// Seconds of clock skew allowed on `exp` and `nbf`.
    public var leeway: Int
    /// The claim holding the roles (an array of strings).
    public var rolesClaim: String
    /// Who may read `/metrics`.
    public var metrics: AccessRules
    /// Requests per user (per address when anonymous) over a sliding minute.
    public var rateLimit: RateLimit?
    /// The variable holding the key that signs stream tickets (`auth.ticket_secret_env`).
    public var ticketSecretEnv: String?
    /// Its value, shared by the instances behind one load balancer; nil: a random key
    /// per process (`StreamTickets.random`).
    public var ticketSecret: [UInt8]?

    public struct RateLimit: Sendable, Equatable {
        public var reads: Int?
        public var writes: Int?
    }

    public init(
        keys: [VerificationKey], issuer: String? = nil, audience: String? = nil, leeway: Int = 0, rolesClaim: String = "roles",
        metrics: AccessRules = .anyone, rateLimit: RateLimit? = nil, ticketSecretEnv: String? = nil
    ) {
        self.keys = keys
        self.issuer = issuer
        self.audience = audience
        self.leeway = leeway
        self.rolesClaim = rolesClaim
        self.metrics = metrics
        self.rateLimit = rateLimit
        self.ticketSecretEnv = ticketSecretEnv
    }
}

/// Where the config loader finds what the config names but does not hold: the
/// environment (secrets) and the config file's folder (key paths are relative to it).
public struct ConfigContext: Sendable {
    public var environment: [String: String]
    public var directory: String

    public init(environment: [String: String] = ProcessInfo.processInfo.environment, directory: String = ".") {
        self.environment = environment
        self.directory = directory
    }
}
