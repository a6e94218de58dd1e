import DocumentStore
import Foundation
import Testing

/// Owned documents: the server sets the owner from `sub`, no one changes it, and a
/// caller with `read: owner` sees only its own, however it asks (lists, filters, `$or`,
/// counts, pages, the list cache).
@Suite struct OwnedDocumentsTests {
    /// `where` as percent-encoded JSON.
    static func whereQuery(_ json: String) -> String {
        "where=" + (json.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
    }

    static func titles(_ r: TestResponse) -> [String] {
        (r.array ?? []).compactMap { $0.objectValue?["title"]?.stringValue }.sorted()
    }

    @Test func theOwnerIsSetFromSubOnCreate() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let r = try await app.post("/todos", json: #"{"title":"t"}"#, as: u.alice)
            #expect(r.status == 201)
            #expect(r.object?["owner"] == .string("alice"))
            // Naming yourself is allowed; naming another is 403, with POST and PUT alike.
            #expect(try await app.post("/todos", json: #"{"title":"t","owner":"alice"}"#, as: u.alice).status == 201)
            let other = try await app.post("/todos", json: #"{"title":"t","owner":"bob"}"#, as: u.alice)
            #expect(other.status == 403)
            #expect(other.errorCode == "forbidden")
            #expect(try await app.put("/todos/planted", json: #"{"title":"t","owner":"bob"}"#, as: u.alice).status == 403)
            #expect(try await app.post("/todos", json: #"{"title":"t","owner":"bob"}"#, as: u.admin).status == 403)
            #expect(try await app.post("/todos", json: #"{"title":"t","owner":7}"#, as: u.alice).status == 403)
            // Nothing of bob's was made.
            #expect(try await app.get("/todos", as: u.bob).array == [])
        }
    }

    @Test func noWriteChangesTheOwnerAnAdminIncluded() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"t"}"#, as: u.alice)
            for token in [u.alice, u.admin] {
                #expect(try await app.patch("/todos/\(id)", json: #"{"owner":"bob"}"#, as: token).status == 403)
                #expect(try await app.put("/todos/\(id)", json: #"{"title":"t","owner":"bob"}"#, as: token).status == 403)
                #expect(try await app.patch("/todos/\(id)", json: #"{"owner":null}"#, as: token).status == 200)
            }
            // A PUT that leaves the owner out keeps it; one that repeats it is fine.
            let put = try await app.put("/todos/\(id)", json: #"{"title":"u"}"#, as: u.alice)
            #expect(put.status == 200)
            #expect(put.object?["owner"] == .string("alice"))
            #expect(try await app.put("/todos/\(id)", json: #"{"title":"v","owner":"alice"}"#, as: u.alice).status == 200)
            let read = try await app.get("/todos/\(id)", as: u.alice)
            #expect(read.object?["owner"] == .string("alice"))
            #expect(read.object?["title"] == .string("v"))
        }
    }

    @Test func listsFiltersOrCountsAndPagesStayWithinTheCallersDocuments() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            for i in 0..<3 { _ = try await app.created("todos", #"{"title":"a\#(i)"}"#, as: u.alice) }
            for i in 0..<5 { _ = try await app.created("todos", #"{"title":"b\#(i)"}"#, as: u.bob) }
            #expect(Self.titles(try await app.get("/todos", as: u.alice)) == ["a0", "a1", "a2"])
            // Filters that name another owner, or try to widen with $or, find nothing more.
            let attempts = [
                Self.whereQuery(#"{"owner":"bob"}"#),
                Self.whereQuery(#"{"$or":[{"owner":"bob"},{"owner":{"$ne":"x"}}]}"#),
                Self.whereQuery(#"{"$or":[{"title":{"$exists":true}},{"owner":{"$exists":false}}]}"#),
                "owner=bob",
                "where%5B%24or%5D%5B0%5D%5Bowner%5D=bob",
            ]
            for query in attempts {
                let r = try await app.get("/todos?\(query)", as: u.alice)
                #expect(r.status == 200, "\(query): \(r.text)")
                #expect(Self.titles(r).allSatisfy { $0.hasPrefix("a") }, "\(query) leaked: \(Self.titles(r))")
            }
            // Counts and pages are the caller's.
            let page = try await app.get("/todos?sort=title&limit=2", as: u.bob)
            #expect(Self.titles(page) == ["b0", "b1"])
            #expect(page.header("X-Total-Count") == "5")
            #expect(page.header("Link")?.contains("skip=2") == true)
            let count = try await app.get("/todos?limit=0", as: u.alice)
            #expect(count.header("X-Total-Count") == "3")
        }
    }

    @Test func theListCacheIsNeverSharedAcrossUsers() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            _ = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            _ = try await app.created("todos", #"{"title":"b"}"#, as: u.bob)
            // The same target, at the same head, one after the other.
            for _ in 0..<2 {
                #expect(Self.titles(try await app.get("/todos?sort=title", as: u.alice)) == ["a"])
                #expect(Self.titles(try await app.get("/todos?sort=title", as: u.bob)) == ["b"])
            }
            // A caller who reads everything (notes: admin) shares no answer with an owner.
            _ = try await app.created("notes", #"{"title":"na"}"#, as: u.alice)
            _ = try await app.created("notes", #"{"title":"nb"}"#, as: u.bob)
            #expect(Self.titles(try await app.get("/notes", as: u.admin)) == ["na", "nb"])
            #expect(Self.titles(try await app.get("/notes", as: u.alice)) == ["na"])
            #expect(Self.titles(try await app.get("/notes", as: u.admin)) == ["na", "nb"])
        }
    }

    @Test func conditionalAndStaleWritesRevealNothingOfOthersDocuments() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"secret"}"#, as: u.alice)
            // A stale _v would answer 409 with the current document: the rules come first.
            let stale = try await app.put("/todos/\(id)", json: #"{"title":"x","_v":99}"#, as: u.bob)
            #expect(stale.status == 404)
            #expect(!stale.text.contains("secret"))
            let conditional = try await app.request(
                "PATCH", "/todos/\(id)", json: #"{"title":"x"}"#, headers: TestTokens.bearer(u.bob) + [("If-Match", "\"1\"")])
            #expect(conditional.status == 404)
            // And a PUT to someone else's id is no create either.
            #expect(try await app.put("/todos/\(id)", json: #"{"title":"mine now"}"#, as: u.bob).status == 404)
            #expect(try await app.get("/todos/\(id)", as: u.alice).object?["title"] == .string("secret"))
        }
    }

    /// `update: [owner, role:admin]` beside `read: owner`: the admin changes alice's
    /// document without reading it, in the answer or in a conflict's `current`.
    @Test func aWriteRightIsNoReadRight() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"secret"}"#, as: u.alice)
            let patched = try await app.patch("/todos/\(id)", json: #"{"done":true}"#, as: u.admin)
            #expect(patched.status == 200, "\(patched.text)")
            #expect(patched.text == #"{"id":"\#(id)","_v":2}"#)
            let stale = try await app.put("/todos/\(id)", json: #"{"title":"x","_v":1}"#, as: u.admin)
            #expect(stale.status == 409 && stale.errorCode == "version_conflict", "\(stale.text)")
            #expect(!stale.text.contains("secret"))
            // The owner still reads it whole, and her own writes answer it whole.
            let own = try await app.patch("/todos/\(id)", json: #"{"done":false}"#, as: u.alice)
            #expect(own.object?["title"] == .string("secret"))
        }
    }
}
