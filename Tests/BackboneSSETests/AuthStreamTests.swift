import Foundation
import Testing

/// Streams with auth on: the read right opens them (401/403/404 as for reads), and a
/// subscriber with `read: owner` gets only changes to its own documents, live and on
/// resume, deletes included.
@Suite struct AuthStreamTests {
    static let eventStream: [(name: String, value: String)] = [("Accept", "text/event-stream")]

    /// Opens a stream as `token`; the caller closes it.
    static func open(
        _ app: TestApp, _ target: String, as token: String?, headers: [(name: String, value: String)] = []
    )
        async throws -> TestResponse
    {
        try await app.get(target, as: token, headers: eventStream + headers)
    }

    /// The ids of the documents in the stream's change events (`create`, `update`,
    /// `delete`), in order, once `count` of them have come (or 3 s have passed).
    static func changes(_ r: TestResponse, count: Int) throws -> [String] {
        let stream = try #require(r.stream)
        let text = StreamHubFeedTests.read(stream, until: { Self.parse($0).count >= count }, for: 3)
        return Self.parse(text)
    }

    static func parse(_ text: String) -> [String] {
        var out: [String] = []
        var event = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("event: ") { event = String(line.dropFirst(7)) }
            if line.hasPrefix("data: "), ["create", "update", "delete"].contains(event),
                let data = try? JSONSerialization.jsonObject(with: Data(line.dropFirst(6).utf8)) as? [String: Any],
                let id = data["id"] as? String
            {
                out.append("\(event) \(id)")
            }
            if line.isEmpty { event = "" }
        }
        return out
    }

    @Test func aStreamNeedsTheReadRight() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            #expect(try await Self.open(app, "/todos", as: nil).status == 401)
            #expect(try await Self.open(app, "/todos/\(id)", as: nil).status == 401)
            #expect(try await Self.open(app, "/todos/\(id)", as: u.bob).status == 404)
            #expect(try await Self.open(app, "/events?collections=todos,shared", as: nil).status == 401)
            let board = try await Self.open(app, "/board", as: nil)
            #expect(board.status == 200)
            board.closeStream()
            let mine = try await Self.open(app, "/todos/\(id)", as: u.alice)
            #expect(mine.status == 200)
            mine.closeStream()
        }
    }

    @Test func ownersReceiveOnlyTheirOwnChangesDeletesIncluded() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let alice = try await Self.open(app, "/todos", as: u.alice)
            let bob = try await Self.open(app, "/todos", as: u.bob)
            let events = try await Self.open(app, "/events?collections=todos,shared", as: u.bob)
            let admin = try await Self.open(app, "/notes", as: u.admin)
            defer { [alice, bob, events, admin].forEach { $0.closeStream() } }
            let a = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            let b = try await app.created("todos", #"{"title":"b"}"#, as: u.bob)
            #expect(try await app.patch("/todos/\(a)", json: #"{"title":"a2"}"#, as: u.alice).status == 200)
            #expect(try await app.delete("/todos/\(a)", as: u.admin).status == 200)
            let s = try await app.created("shared", #"{"n":1}"#, as: u.alice)
            let na = try await app.created("notes", #"{"title":"na"}"#, as: u.alice)
            let nb = try await app.created("notes", #"{"title":"nb"}"#, as: u.bob)
            #expect(try Self.changes(alice, count: 3) == ["create \(a)", "update \(a)", "delete \(a)"])
            #expect(try Self.changes(bob, count: 1) == ["create \(b)"])
            #expect(try Self.changes(events, count: 2) == ["create \(b)", "create \(s)"])
            #expect(try Self.changes(admin, count: 2) == ["create \(na)", "create \(nb)"])
        }
    }

    @Test func aResumeReplaysOnlyTheCallersChanges() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let cursor = try #require(try await app.get("/todos", as: u.bob).header("X-Stream-Cursor"))
            let a = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            let b = try await app.created("todos", #"{"title":"b"}"#, as: u.bob)
            #expect(try await app.delete("/todos/\(a)", as: u.alice).status == 200)
            #expect(try await app.delete("/todos/\(b)", as: u.bob).status == 200)
            let bySince = try await Self.open(app, "/todos?since=\(cursor)", as: u.bob)
            let byLastEventID = try await Self.open(app, "/todos", as: u.bob, headers: [("Last-Event-ID", cursor)])
            defer { [bySince, byLastEventID].forEach { $0.closeStream() } }
            #expect(try Self.changes(bySince, count: 2) == ["create \(b)", "delete \(b)"])
            #expect(try Self.changes(byLastEventID, count: 2) == ["create \(b)", "delete \(b)"])
        }
    }

    @Test func aStreamEndsWithExpiredWhenItsTokenExpires() async throws {
        try await TestApp.runWithAuth { app in
            // Four seconds past exp, with a 5 s leeway: good for one more second.
            let shortLived = try await TestTokens.sign(TestTokens.claims("alice", expiresIn: -4))
            let lasting = try await TestTokens.token("alice")
            let ending = try await Self.open(app, "/todos", as: shortLived)
            let staying = try await Self.open(app, "/events?collections=todos", as: lasting)
            defer { [ending, staying].forEach { $0.closeStream() } }
            #expect(ending.status == 200 && staying.status == 200)
            let text = StreamHubFeedTests.read(try #require(ending.stream), until: { $0.contains("event: expired") }, for: 5)
            #expect(text.contains("event: expired\ndata: {\"reason\":\"token_expired\"}"), "\(text)")
            let other = StreamHubFeedTests.read(try #require(staying.stream), until: { _ in false }, for: 0.5)
            #expect(!other.contains("expired"))
        }
    }
}
