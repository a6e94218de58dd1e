import DocumentStore

/// `POST /auth/ticket` (DESIGN.md §5): a bearer token traded for a stream ticket, for
/// `EventSource`, which cannot send headers.
enum AuthRoutes {
    static func ticket(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        guard let tickets = request.app.tickets else {
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
