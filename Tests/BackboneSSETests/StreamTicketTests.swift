import DocumentStore
import Foundation
import Testing

@testable import BackboneSSE

/// Stream tickets (DESIGN.md §5): `POST /auth/ticket` trades a bearer token for a
/// ticket that opens `/{c}`, `/{c}/{id}` and `/events` as `?ticket=` (for
/// `EventSource`), as that user and for as long as the token lives; nothing else.
@Suite struct StreamTicketTests {
    static let eventStream: [(name: String, value: String)] = [("Accept", "text/event-stream")]

    /// A ticket for `token`, which must be issued.
    static func ticket(_ app: TestApp, for token: String, sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        let r = try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(token))
        #expect(r.status == 201, "\(r.text)", sourceLocation: sourceLocation)
        return try #require(r.object?["ticket"]?.stringValue, sourceLocation: sourceLocation)
    }

    /// Opens `target` as a stream with `?ticket=` (and no other credential).
    static func open(
        _ app: TestApp, _ target: String, ticket: String, headers: [(name: String, value: String)] = []
    ) async throws
        -> TestResponse
    {
        let separator = target.contains("?") ? "&" : "?"
        return try await app.get(target + separator + "ticket=" + ticket, headers: eventStream + headers)
    }

    static func expectInvalidToken(_ r: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 401, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.errorCode == "unauthenticated", sourceLocation: sourceLocation)
        #expect(r.header("WWW-Authenticate") == #"Bearer error="invalid_token""#, sourceLocation: sourceLocation)
    }

    // MARK: Issuing

    @Test func aBearerTokenBuysATicketForSixtySeconds() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let before = Date()
            let r = try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(u.alice))
            #expect(r.status == 201, "\(r.text)")
            #expect(r.header("Cache-Control") == "no-store")
            let ticket = try #require(r.object?["ticket"]?.stringValue)
            #expect(ticket.hasPrefix("bbst1.") && !ticket.contains(u.alice))
            let expires = try #require(r.object?["expires"]?.stringValue)
            #expect(DateTime.isValid(expires))
            let date = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: expires))
            #expect(date.timeIntervalSince(before) > 58 && date.timeIntervalSince(before) <= 61, "\(expires)")
        }
    }

    @Test func noTicketWithoutAGoodBearerToken() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let ticket = try await Self.ticket(app, for: u.alice)
            let anonymous = try await app.request("POST", "/auth/ticket")
            #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate") == "Bearer")
            Self.expectInvalidToken(try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(TestTokens.unsigned("alice"))))
            // A ticket buys no ticket, neither as a bearer token nor in the query.
            Self.expectInvalidToken(try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(ticket)))
            #expect(try await app.request("POST", "/auth/ticket?ticket=\(ticket)").status == 401)
        }
    }

    @Test func withoutAnAuthBlockThereAreNoTickets() async throws {
        try await TestApp.run { app in
            let r = try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(try await TestTokens.token("alice")))
            #expect(r.status == 404 && r.errorCode == "not_found")
        }
    }

    @Test func ticketsCountAsWritesAgainstTheRateLimit() async throws {
        try await TestApp.run(config: RateLimitTests.config) { app in
            let alice = try await TestTokens.token("alice")
            for _ in 0..<2 { _ = try await Self.ticket(app, for: alice) }
            let r = try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(alice))
            #expect(r.status == 429 && r.errorCode == "rate_limited" && r.has("Retry-After"))
        }
    }

    // MARK: Opening streams

    @Test func aTicketOpensEachKindOfStreamAsItsUserOnly() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let mine = try await app.created("todos", #"{"title":"mine"}"#, as: u.alice)
            let theirs = try await app.created("todos", #"{"title":"theirs"}"#, as: u.bob)
            let ticket = try await Self.ticket(app, for: u.alice)
            let list = try await Self.open(app, "/todos", ticket: ticket)
            let one = try await Self.open(app, "/todos/\(mine)", ticket: ticket)
            let events = try await Self.open(app, "/events?collections=todos,shared", ticket: ticket)
            defer { [list, one, events].forEach { $0.closeStream() } }
            #expect(list.status == 200 && one.status == 200 && events.status == 200)
            // Bob's document is not there for Alice, by ticket as by token.
            #expect(try await Self.open(app, "/todos/\(theirs)", ticket: ticket).status == 404)
            #expect(try await app.patch("/todos/\(theirs)", json: #"{"title":"b2"}"#, as: u.bob).status == 200)
            _ = try await app.created("todos", #"{"title":"b"}"#, as: u.bob)
            #expect(try await app.patch("/todos/\(mine)", json: #"{"title":"m2"}"#, as: u.alice).status == 200)
            let s = try await app.created("shared", #"{"n":1}"#, as: u.bob)
            #expect(try AuthStreamTests.changes(list, count: 1) == ["update \(mine)"])
            #expect(try AuthStreamTests.changes(one, count: 1) == ["update \(mine)"])
            #expect(try AuthStreamTests.changes(events, count: 2) == ["update \(mine)", "create \(s)"])
        }
    }

    @Test func aTicketCarriesTheRoles() async throws {
        try await TestApp.runWithAuth { app in
            let auditor = try await Self.ticket(app, for: try await TestTokens.token("eve", roles: ["auditor"]))
            let alice = try await Self.ticket(app, for: try await TestTokens.token("alice"))
            let opened = try await Self.open(app, "/audit", ticket: auditor)
            opened.closeStream()
            #expect(opened.status == 200)
            #expect(try await Self.open(app, "/audit", ticket: alice).status == 403)
        }
    }

    @Test func aTicketStreamResumesWithOnlyTheCallersChanges() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let cursor = try #require(try await app.get("/todos", as: u.bob).header("X-Stream-Cursor"))
            let a = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            let b = try await app.created("todos", #"{"title":"b"}"#, as: u.bob)
            #expect(try await app.delete("/todos/\(a)", as: u.alice).status == 200)
            let ticket = try await Self.ticket(app, for: u.bob)
            let bySince = try await Self.open(app, "/todos?since=\(cursor)", ticket: ticket)
            let byLastEventID = try await Self.open(app, "/todos", ticket: ticket, headers: [("Last-Event-ID", cursor)])
            defer { [bySince, byLastEventID].forEach { $0.closeStream() } }
            #expect(try AuthStreamTests.changes(bySince, count: 1) == ["create \(b)"])
            #expect(try AuthStreamTests.changes(byLastEventID, count: 1) == ["create \(b)"])
        }
    }

    @Test func aTicketStreamLivesAsLongAsItsTokenNotItsTicket() async throws {
        try await TestApp.runWithAuth { app in
            // A ticket is good until its token expires, if that comes first.
            var opened: (stream: TestResponse, ticket: String)?
            // Tests that block their thread can hold this one past the token's two
            // seconds between signing and opening: then again, with a new token.
            for _ in 0..<5 where opened == nil {
                // Three seconds past exp, with a 5 s leeway: good for two more seconds.
                let shortLived = try await TestTokens.sign(TestTokens.claims("alice", expiresIn: -3))
                let r = try await app.request("POST", "/auth/ticket", headers: TestTokens.bearer(shortLived))
                guard r.status == 201 else { continue }
                let expires = try #require(r.object?["expires"]?.stringValue)
                let date = try #require(ISO8601DateFormatter.withFractionalSeconds.date(from: expires))
                #expect(date.timeIntervalSinceNow < 2.5, "a ticket outlives its token: \(expires)")
                let ticket = try #require(r.object?["ticket"]?.stringValue)
                let stream = try await Self.open(app, "/todos", ticket: ticket)
                if stream.status == 200 { opened = (stream, ticket) }
            }
            let (ending, ticket) = try #require(opened)
            defer { ending.closeStream() }
            let text = StreamHubFeedTests.read(try #require(ending.stream), until: { $0.contains("event: expired") }, for: 6)
            #expect(text.contains("event: expired\ndata: {\"reason\":\"token_expired\"}"), "\(text)")
            // And once the token has expired, its ticket opens nothing.
            Self.expectInvalidToken(try await Self.open(app, "/todos", ticket: ticket))
        }
    }

    @Test func aTicketsIdentityExpiresWithItsToken() {
        let tickets = StreamTickets.random()
        let now = Date()
        let token = Identity(subject: "alice", roles: ["admin"], expires: now.addingTimeInterval(3600))
        let issued = tickets.issue(for: token, now: now)
        #expect(abs(issued.expires.timeIntervalSince(now) - 60) < 0.01)
        let identity = try? tickets.verify(issued.ticket, now: now.addingTimeInterval(59)).get()
        #expect(identity?.subject == "alice" && identity?.roles == ["admin"])
        #expect(abs((identity?.expires ?? now).timeIntervalSince(token.expires)) < 0.01)
        #expect((try? tickets.verify(issued.ticket, now: now.addingTimeInterval(60)).get()) == nil)
    }

    // MARK: Refusals

    /// An app whose ticket key is `TestTokens.ticketSecret`, so the tests can sign their own.
    static func withSharedKey(_ body: (TestApp) async throws -> Void) async throws {
        let app = try TestApp(config: AuthTestConfig.withTicketSecret)
        defer { app.shutdown() }
        try await body(app)
    }

    static let alice = Identity(subject: "alice", roles: [], expires: Date().addingTimeInterval(3600))

    @Test func aTicketSignedWithTheSharedKeyOpensAndAnExpiredOneDoesNot() async throws {
        try await Self.withSharedKey { app in
            let shared = StreamTickets(secret: Array(TestTokens.ticketSecret.utf8))
            let good = try await Self.open(app, "/todos", ticket: shared.issue(for: Self.alice).ticket)
            good.closeStream()
            #expect(good.status == 200)
            let expired = shared.issue(for: Self.alice, now: Date().addingTimeInterval(-61)).ticket
            Self.expectInvalidToken(try await Self.open(app, "/todos", ticket: expired))
        }
    }

    @Test func aTicketOfAnotherKeyOrAnotherServerIsRefused() async throws {
        try await Self.withSharedKey { app in
            let foreign = StreamTickets(secret: Array("another-ticket-secret-of-thirty-two-bytes!".utf8))
            Self.expectInvalidToken(try await Self.open(app, "/todos", ticket: foreign.issue(for: Self.alice).ticket))
        }
        // Without ticket_secret_env each process has its own key.
        try await TestApp.runWithAuth { issuer in
            let ticket = try await Self.ticket(issuer, for: try await TestTokens.token("alice"))
            try await TestApp.runWithAuth { other in
                Self.expectInvalidToken(try await Self.open(other, "/todos", ticket: ticket))
            }
        }
    }

    @Test func aTamperedTicketIsRefused() async throws {
        try await Self.withSharedKey { app in
            let ticket = StreamTickets(secret: Array(TestTokens.ticketSecret.utf8)).issue(for: Self.alice).ticket
            let parts = ticket.dropFirst("bbst1.".count).split(separator: ".").map(String.init)
            try #require(parts.count == 2)
            // The payload made Bob's, its MAC kept.
            let payload = try #require(StreamTickets.decode(parts[0][...]))
            let bobs = String(decoding: payload, as: UTF8.self).replacingOccurrences(of: #""alice""#, with: #""bob""#)
            let asBob = "bbst1." + StreamTickets.base64url(Data(bobs.utf8)) + "." + parts[1]
            // One byte of the payload flipped, and one of the MAC.
            var payloadBytes = [UInt8](payload)
            payloadBytes[payloadBytes.count / 2] ^= 0x01
            let flippedPayload = "bbst1." + StreamTickets.base64url(Data(payloadBytes)) + "." + parts[1]
            var mac = [UInt8](try #require(StreamTickets.decode(parts[1][...])))
            mac[0] ^= 0x80
            let flippedMAC = "bbst1." + parts[0] + "." + StreamTickets.base64url(Data(mac))
            // The MAC's last character with other spare bits: the same bytes, another text.
            var lastChar = parts[1]
            let last = lastChar.removeLast()
            let respelled = "bbst1." + parts[0] + "." + lastChar + (last == "A" ? "B" : "A")
            for forged in [asBob, flippedPayload, flippedMAC, respelled, "bbst1." + parts[0], "", "bbst1..", String(ticket.dropLast())] {
                let r = try await Self.open(app, "/todos", ticket: forged)
                Self.expectInvalidToken(r)
                #expect(forged.isEmpty || !r.text.contains(forged))
            }
        }
    }

    @Test func aTokenIsNeverATicketNorATicketAToken() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let ticket = try await Self.ticket(app, for: u.alice)
            Self.expectInvalidToken(try await Self.open(app, "/todos", ticket: u.alice))
            Self.expectInvalidToken(try await Self.open(app, "/events?collections=todos", ticket: u.alice))
            Self.expectInvalidToken(try await app.get("/todos", as: ticket, headers: Self.eventStream))
            Self.expectInvalidToken(try await app.get("/todos", as: ticket))
            // `access_token` is not a way in either.
            #expect(try await app.get("/todos?access_token=\(u.alice)", headers: Self.eventStream).status == 401)
            // Both at once: one way of sending credentials per request (RFC 6750 §2).
            let both = try await Self.open(app, "/todos", ticket: ticket, headers: TestTokens.bearer(u.alice))
            #expect(both.status == 400 && both.errorCode == "two_credentials")
        }
    }

    @Test func aTicketOpensNothingButStreams() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"mine"}"#, as: u.alice)
            let ticket = try await Self.ticket(app, for: u.alice)
            let refused = [
                try await app.get("/todos?ticket=\(ticket)"),
                try await app.get("/todos/\(id)?ticket=\(ticket)"),
                try await app.request("POST", "/todos?ticket=\(ticket)", json: #"{"title":"x"}"#),
                try await app.request("PATCH", "/todos/\(id)?ticket=\(ticket)", json: #"{"title":"x"}"#),
                try await app.request("DELETE", "/todos/\(id)?ticket=\(ticket)"),
            ]
            for r in refused {
                // As if no credential came: 401 with a plain challenge, the ticket unquoted.
                #expect(r.status == 401 && r.header("WWW-Authenticate") == "Bearer", "\(r.text)")
                #expect(!r.text.contains(ticket))
            }
            #expect(try await app.document(id, as: u.alice)?["title"] == .string("mine"))
            // Where anyone may read, the ticket is no filter either, and no link repeats it.
            let board = try await app.get("/board?ticket=\(ticket)&limit=1")
            #expect(board.status == 200 && board.array == [])
            #expect(!(board.header("Link") ?? "").contains(ticket))
        }
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractionalSeconds: ISO8601DateFormatter = {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }()
}

extension TestApp {
    /// The document as `token` reads it, or nil on 404.
    fileprivate func document(_ id: String, as token: String) async throws -> JSONObject? {
        let r = try await get("/todos/\(id)", as: token)
        return r.status == 200 ? r.object : nil
    }
}
