import DocumentStore
import HTTPServer

/// `POST /auth/ticket` (DESIGN.md §5): a bearer token traded for a stream ticket, for
/// `EventSource`, which cannot send headers.
enum AuthRoutes {
    static func ticket(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        guard let tickets = request.configured.tickets else {
            throw APIError.notFound("this server has no auth block: streams open without a ticket")
        }
        // `Authentication` read only the header here: a ticket never buys another ticket.
        guard let identity = request.identity else { throw Unauthenticated.noToken }
        let issued = tickets.issue(for: identity)
        var body = JSONObject()
        body["ticket"] = .string(issued.ticket)
        body["expires"] = .string(DateTime.string(issued.expires))
        // A credential: no cache keeps it (RFC 6749 §5.1 asks the same of tokens).
        respond(Responses.json(201, .object(body), [("Cache-Control", "no-store")]))
    }
}

extension AuthRoutes {
    /// `POST /auth/dev-token` `{"sub": "alice", "roles": ["admin"], "ttl": 3600}`: a token
    /// for anyone who asks, only on a server started with `--dev-tokens` (404 otherwise).
    static func devToken(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        guard let issuer = request.app.options.devTokens else {
            throw APIError.notFound("this server issues no development tokens (serve --dev-tokens)")
        }
        let asked = try DevTokenRequest(RequestBody.decode(request.http).object)
        // Signing is async in jwt-kit: off the cooperative pool, as verification is.
        Task(executorPreference: VerificationExecutor.shared) {
            let answer: HTTPResponse
            do {
                let issued = try await issuer.issue(subject: asked.subject, roles: asked.roles, lifetime: asked.lifetime)
                var body = JSONObject()
                body["token"] = .string(issued.token)
                body["expires"] = .string(DateTime.string(issued.expires))
                answer = Responses.json(201, .object(body), [("Cache-Control", "no-store")])
            } catch {
                answer = request.errorResponse(APIError(500, "internal_error", "the token could not be signed"))
            }
            respond(answer)
        }
    }
}

/// What `POST /auth/dev-token` asks for, checked.
struct DevTokenRequest {
    let subject: String
    let roles: [String]
    let lifetime: Int

    init(_ body: JSONObject) throws(APIError) {
        for name in body.members.map(\.key) where !["sub", "roles", "ttl"].contains(name) {
            throw .badRequest("unknown member \(name): send sub, and optionally roles and ttl", code: "bad_body")
        }
        guard case .string(let subject)? = body["sub"], (1...200).contains(subject.count) else {
            throw .badRequest("sub must be a string of 1 to 200 characters", code: "bad_body")
        }
        // A token whose subject holds a NUL is refused by every request (TokenVerifier).
        guard !subject.utf8.contains(0) else { throw .badRequest("sub must not contain a NUL character", code: "bad_body") }
        var roles: [String] = []
        switch body["roles"] {
        case nil, .null?: break
        case .array(let items)?:
            for item in items {
                guard case .string(let role) = item, (1...100).contains(role.count) else {
                    throw .badRequest("roles must be an array of strings of 1 to 100 characters", code: "bad_body")
                }
                roles.append(role)
            }
            guard roles.count <= 20 else { throw .badRequest("at most 20 roles", code: "bad_body") }
        default: throw .badRequest("roles must be an array of strings", code: "bad_body")
        }
        var lifetime = DevTokenIssuer.defaultLifetime
        if let ttl = body["ttl"] {
            guard case .int(let seconds) = ttl, (1...Int64(DevTokenIssuer.maxLifetime)).contains(seconds) else {
                throw .badRequest("ttl must be a whole number of seconds from 1 to \(DevTokenIssuer.maxLifetime)", code: "bad_body")
            }
            lifetime = Int(seconds)
        }
        self.subject = subject
        self.roles = roles
        self.lifetime = lifetime
    }
}
