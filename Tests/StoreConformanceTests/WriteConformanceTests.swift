import DocumentStore
import Foundation
import Testing

/// Documents and writes: what the REST routes rely on, the same on every store.
@Suite struct WriteConformanceTests {
    @Test(arguments: StoreKind.allCases) func documentsKeepTheirJSONTypesAndOrder(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let text =
            #"{"id":"a","n":3,"big":9007199254740993,"d":2.5,"whole":2.0,"t":true,"z":null,"s":"é\"","arr":[1,"two",[3],{"four":4}],"o":{"p":{"q":[]}},"_v":1}"#
        let result = try commit(store, "a") { _ in .insert(try object(text), version: 1) }.get()
        #expect(result.document?.json == text)
        let stored = try #require(try store.get("todos", id: "a"))
        #expect(stored.json == text)
        #expect(stored.version == 1)
        if case .int(let big)? = stored.parsed()["big"] {
            #expect(big == 9_007_199_254_740_993)
        } else {
            Issue.record("an integer must stay an integer")
        }
        if case .double? = stored.parsed()["whole"] {} else { Issue.record("2.0 must stay a double") }
    }

    @Test(arguments: StoreKind.allCases) func generatedIDsComeBackAsTheSameString(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let id = DocumentID.generate()
        try insert(store, #"{"id":"\#(id)","title":"x"}"#)
        try insert(store, #"{"id":"ABCDEF0123456789abcdef01","title":"upper"}"#)
        #expect(try store.get("todos", id: id)?.parsed()["id"] == .string(id))
        let byID = try store.list("todos", query: ListQuery(filter: .compare(FieldPath("id")!, .eq, .string(id))))
        #expect(byID.documents.map(\.id) == [id])
        let byIn = try store.list(
            "todos", query: ListQuery(filter: .isIn(FieldPath("id")!, [.string(id), .string("ABCDEF0123456789abcdef01")])))
        #expect(byIn.documents.map(\.id) == [id, "ABCDEF0123456789abcdef01"])
    }

    /// A write told its id is new skips the lookup; an id taken all the same is still
    /// refused as a duplicate, and the document that has it is left as it was.
    @Test(arguments: StoreKind.allCases) func anIDSaidToBeNewButTakenIsRefused(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let id = DocumentID.generate()
        try insert(store, #"{"id":"\#(id)","title":"first"}"#)
        let clash = try object(#"{"id":"\#(id)","title":"second","_v":1}"#)
        let result = commit(store, id, idIsNew: true) { _ in .insert(clash, version: 1) }
        guard case .duplicateID? = result.failure else {
            Issue.record("expected duplicateID, got \(result)")
            return
        }
        #expect(try store.get("todos", id: id)?.parsed()["title"] == .string("first"))
    }

    @Test(arguments: StoreKind.allCases) func writesDocumentAndChangeTogether(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let before = try store.head()
        let created = try commit(store, "a") { current in
            #expect(current == nil)
            return .insert(try object(#"{"id":"a","title":"x","_v":1}"#), version: 1)
        }.get()
        #expect(created.change.sequence == before.sequence + 1)
        #expect(created.change.operation == .create)
        #expect(created.change.origin == "test")
        #expect(created.change.previous == nil)
        #expect(created.change.document == created.document?.json)
        #expect(created.cursor == ChangeCursor(epoch: before.epoch, sequence: created.change.sequence))
        #expect(try store.head().sequence == created.change.sequence)

        let updated = try update(store, "a", [("title", .string("y"))])
        #expect(updated.change.operation == .update)
        #expect(updated.change.version == 2)
        #expect(updated.change.previous == created.document?.json)
        #expect(try store.get("todos", id: "a")?.parsed()["title"] == .string("y"))

        let deleted = try commit(store, "a") { current in .delete(version: current!.version + 1) }.get()
        #expect(deleted.document == nil)
        #expect(deleted.change.operation == .delete)
        #expect(deleted.change.version == 3)
        #expect(deleted.change.document == nil)
        #expect(deleted.change.previous == updated.document?.json)
        #expect(try store.get("todos", id: "a") == nil)
        #expect(try store.head().sequence == deleted.change.sequence)
        #expect(deleted.change.sequence == created.change.sequence + 2)
    }

    @Test(arguments: StoreKind.allCases) func readGivesTheDocumentAndACursorNoLaterThanIt(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let created = try insert(store, #"{"id":"a","title":"x"}"#)
        let read = try store.read("todos", id: "a")
        #expect(read.document == created.document)
        #expect(read.cursor == (try store.head()))
        let missing = try store.read("todos", id: "nope")
        #expect(missing.document == nil)
        #expect(missing.cursor.sequence == created.change.sequence)
    }

    @Test(arguments: StoreKind.allCases) func refusedWriteLeavesNothing(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let head = try store.head()
        let result = commit(store, "a") { _ in .refuse }
        guard case .refused? = result.failure else {
            Issue.record("expected refused, got \(result)")
            return
        }
        #expect(try store.get("todos", id: "a") == nil)
        #expect(try store.head() == head)
        #expect(try store.changes(after: head.sequence, limit: 10).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func insertOverAnExistingDocumentIsADuplicateID(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        try insert(store, #"{"id":"a"}"#)
        let head = try store.head()
        let result = commit(store, "a") { _ in .insert(try object(#"{"id":"a","_v":1}"#), version: 1) }
        guard case .duplicateID? = result.failure else {
            Issue.record("expected duplicateID, got \(result)")
            return
        }
        #expect(try store.head() == head)
    }

    @Test(arguments: StoreKind.allCases) func uniqueFieldClashNamesTheField(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        try insert(store, #"{"id":"a","slug":"s"}"#)
        let head = try store.head()
        let result = commit(store, "b") { _ in .insert(try object(#"{"id":"b","slug":"s","_v":1}"#), version: 1) }
        guard case .uniqueViolation(let field)? = result.failure else {
            Issue.record("expected unique violation, got \(result)")
            return
        }
        #expect(field == "slug")
        #expect(try store.get("todos", id: "b") == nil)
        // Nothing logged (MongoDB's log may have a void entry: the head can move on).
        #expect(try store.changes(after: head.sequence, limit: 10).isEmpty)
        // Documents without the field never clash.
        try insert(store, #"{"id":"c"}"#)
        try insert(store, #"{"id":"d"}"#)
        // Nor does a document with its own value, and the value frees up when changed.
        try update(store, "a", [("slug", .string("t"))])
        try insert(store, #"{"id":"e","slug":"s"}"#)
    }

    @Test(arguments: StoreKind.allCases) func concurrentWritesToOneDocumentLoseNoUpdate(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        try insert(store, #"{"id":"counter","n":0}"#)
        let results = Collector<Result<WriteResult, StoreError>>()
        DispatchQueue.concurrentPerform(iterations: 20) { _ in
            results.append(
                commit(store, "counter") { current in
                    guard let current, case .int(let n)? = current.parsed()["n"] else { throw StoreError.internalError("missing") }
                    var document = current.parsed()
                    document["n"] = .int(n + 1)
                    document["_v"] = .int(current.version + 1)
                    return .update(document, version: current.version + 1)
                })
        }
        let changes = try results.values.map { try $0.get().change }
        #expect(changes.count == 20)
        let final = try #require(try store.get("todos", id: "counter"))
        #expect(final.version == 21)
        #expect(final.parsed()["n"] == .int(20))
        // In the log, the document's versions come in sequence order.
        let logged = try store.changes(after: 0, limit: 100).filter { $0.id == "counter" }.map(\.version)
        #expect(logged == Array(1...21))
    }

    @Test(arguments: StoreKind.allCases) func unknownCollectionIsRefused(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        #expect(throws: StoreError.self) { try store.get("nope", id: "a") }
        #expect(throws: StoreError.self) { try store.list("nope", query: ListQuery()) }
        guard case .unknownCollection? = commit(store, "a", in: "nope", { _ in .delete(version: 1) }).failure else {
            Issue.record("a write to an unknown collection must fail")
            return
        }
    }

    @Test(arguments: StoreKind.allCases) func collectionsAreSeparate(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        try insert(store, #"{"id":"a","title":"todo"}"#)
        try insert(store, #"{"id":"a","title":"list"}"#, collection: "lists")
        #expect(try store.get("todos", id: "a")?.parsed()["title"] == .string("todo"))
        #expect(try store.get("lists", id: "a")?.parsed()["title"] == .string("list"))
    }

    @Test(arguments: StoreKind.allCases) func healthAndDescription(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        #expect(store.health().ok)
        #expect(store.description.hasPrefix(kind == .sqlite ? "sqlite:" : "mongodb:"))
        #expect(!store.statistics().isEmpty)
    }
}
