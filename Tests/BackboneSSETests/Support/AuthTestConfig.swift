import Foundation

/// The config of the auth tests: every kind of key, and collections for each kind of rule.
enum AuthTestConfig {
    static let yaml = """
        auth:
          jwt:
            secret_env: BACKBONE_SSE_TEST_JWT_SECRET
            public_keys: [rsa.pem, es256.pem, es384.pem, ed25519.pem]
            issuer: https://id.test
            audience: todos-app
            leeway: 5
          metrics: role:ops
        collections:
          todos:
            owner: owner
            access:
              read: owner
              create: user
              update: [owner, role:admin]
              delete: [owner, role:admin]
          notes:
            owner: owner
            access:
              read: [owner, role:admin]
              create: user
              update: owner
              delete: role:admin
          shared: {}
          audit:
            access:
              read: role:auditor
              create: role:auditor
              update: nobody
              delete: nobody
          board:
            access:
              read: anyone
              create: role:editor
              update: nobody
              delete: nobody
        """

    /// The same, with a ticket key shared through `auth.ticket_secret_env`.
    static let withTicketSecret = yaml.replacingOccurrences(
        of: "auth:\n", with: "auth:\n  ticket_secret_env: \(TestTokens.ticketSecretVariable)\n")
}
