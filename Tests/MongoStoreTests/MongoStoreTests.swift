import DocumentStore
import Foundation
import Logging
import Synchronization
import MongoDoubleSupport
@testable import MongoStore
import TestSupport
import Testing

/// What only MongoStore has: the change log's claims and lease, the documents' shape in
/// MongoDB, and the round trips each operation costs. Against the test double (or
/// MONGODB_URI); the behaviours shared with SQLite are in StoreConformanceTests.
@Suite struct MongoStoreTests {
    static func store(lease: Double = 30) throws -> MongoStore {
        let store = try MongoStore(
            connectionString: MongoDouble.shared.uri(), options: .init(writers: 2, leaseSeconds: lease), logger: Logger(label: "test"))
        try store.prepare([CollectionLayout(name: "todos", indexes: [FieldPath("done")!], unique: [FieldPath("slug")!], scalarPaths: [])])
        return store
    }

    func create(_ store: MongoStore, _ id: String, _ fields: [(String, JSON)] = []) throws -> WriteResult {
        let document = JSONObject([("id", .string(id))] + fields + [("_v", .int(1))])
        return try waitFor {
            store.write(WriteRequest(collection: "todos", id: id, origin: nil) { _ in .insert(document, version: 1) }, completion: $0)
        }.get()
    }

    /// Commands sent while `body` runs.
    func commands(_ store: MongoStore, _ body: () throws -> Void) rethrows -> Int {
        let before = store.pool.commandsSent.load(ordering: .relaxed)
        try body()
        return store.pool.commandsSent.load(ordering: .relaxed) - before
    }

    @Test func eachOperationTakesAFixedNumberOfCommands() throws {
        let store = try Self.store()
        for i in 0..<25 { _ = try create(store, "d\(i)") }
        #expect(try commands(store) { _ = try create(store, "new") } == 4)  // find, claim, insert, done
        #expect(try commands(store) { _ = try store.get("todos", id: "new") } == 1)
        #expect(try commands(store) { _ = try store.read("todos", id: "new") } == 2)  // head, find
        #expect(try commands(store) { _ = try store.list("todos", query: ListQuery(limit: 20)) } == 3)  // head, find, count (truncated)
        #expect(try commands(store) { _ = try store.list("todos", query: ListQuery(limit: 100)) } == 2)
        #expect(try commands(store) { _ = try store.head() } == 1)
    }

    @Test func documentsAreStoredWithObjectIDsAndACreationSequence() throws {
        let store = try Self.store()
        let id = DocumentID.generate()
        let created = try create(store, id, [("title", .string("x"))])
        let raw = try store.pool.find("todos", filter: MongoDocument.idFilter(id), limit: 1)
        #expect(raw.first?.keys == ["_id", "_c", "title", "_v"])
        #expect(raw.first?["_c"] == .int(created.change.sequence))
        let typed = try store.pool.command(
            BSONDocument(
                JSONObject([
                    ("count", .string("todos")),
                    ("query", .object(JSONObject([("_id", .object(JSONObject([("$type", .string("objectId"))])))]))),
                ]))
        ).json["n"]?.numberValue
        #expect(typed == 1)
    }

    @Test func aPendingEntryHoldsReadersBackUntilItsLeaseEnds() throws {
        let store = try Self.store(lease: 2)
        let first = try create(store, "a").change.sequence
        // A writer that claimed the next sequence and died before writing its document.
        let dead = Change(
            sequence: first + 1, collection: "todos", id: "ghost", operation: .create, version: 1,
            document: #"{"id":"ghost","_v":1}"#, previous: nil, origin: nil, time: ChangeLog.now())
        try store.log.insert(dead, creation: 0, state: .pending)
        store.order.withLock { $0.raise(to: first + 1) }
        let after = try create(store, "b").change.sequence
        #expect(after == first + 2)
        #expect(try store.head().sequence == first)  // not past the pending entry
        #expect(try store.changes(after: 0, limit: 10).map(\.sequence) == [first])
        Thread.sleep(forTimeInterval: 2.1)
        #expect(try store.head().sequence == after)  // settled void: its document never came
        #expect(try store.changes(after: 0, limit: 10).map(\.id) == ["a", "b"])
        #expect(store.log.leaseResolutions.load(ordering: .relaxed) == 1)
    }

    @Test func aPendingEntryWhoseDocumentWasWrittenIsSettledDone() throws {
        let store = try Self.store(lease: 2)
        let first = try create(store, "a").change.sequence
        // Died after writing the document, before marking its entry done.
        let sequence = first + 1
        let change = Change(
            sequence: sequence, collection: "todos", id: "late", operation: .create, version: 1,
            document: #"{"id":"late","_v":1}"#, previous: nil, origin: nil, time: ChangeLog.now())
        try store.log.insert(change, creation: 0, state: .pending)
        _ = try store.pool.insert(
            "todos", MongoDocument.bson(JSONObject([("id", .string("late")), ("_v", .int(1))]), id: "late", creation: sequence))
        store.order.withLock { $0.raise(to: sequence) }
        #expect(try store.head().sequence == first)
        Thread.sleep(forTimeInterval: 2.1)
        #expect(try store.head().sequence == sequence)
        #expect(try store.changes(after: first, limit: 10) == [change])
    }

    @Test func aMissingNumberHoldsReadersBackUntilTheLeaseVoidsIt() throws {
        let store = try Self.store(lease: 2)
        let first = try create(store, "a").change.sequence
        // Someone took first+1 and never inserted it; the next writer goes past it.
        store.order.withLock { $0.raise(to: first + 1) }
        let next = try create(store, "b").change.sequence
        #expect(next == first + 2)
        #expect(try store.head().sequence == first)
        Thread.sleep(forTimeInterval: 2.1)
        #expect(try store.head().sequence == next)
        // The late writer's claim of that number now fails: it would claim another.
        let late = Change(
            sequence: first + 1, collection: "todos", id: "z", operation: .create, version: 1,
            document: "{}", previous: nil, origin: nil, time: ChangeLog.now())
        #expect(throws: MongoError.self) { try store.log.insert(late, creation: 0, state: .pending) }
    }

    /// The first writes of a fresh store: a writer holds 1 (not inserted yet) while 2 is
    /// written. A stream from the start must resume, not be reset (seen in the integration
    /// suite's reconnect storm: a spurious `reset` at sequence 0).
    @Test func aStreamCanResumeFromTheHeadWhileTheNextNumberIsMissing() throws {
        let store = try Self.store(lease: 30)
        let start = try store.head().sequence
        store.order.withLock { $0.raise(to: start + 1) }
        #expect(try create(store, "b").change.sequence == start + 2)
        let bounds = try store.logBounds()
        #expect(bounds.newest == start)
        #expect(bounds.canResume(after: start))
        #expect(!bounds.canResume(after: start + 2))
    }

    @Test func theListenerNeverSeesALaterSequenceFirst() throws {
        let store = try Self.store(lease: 30)
        let seen = Mutex<[Int64]>([])
        // The store's own commits pass over another instance's sequence; the feed fills
        // it from the log (no periodic poll here: the gap alone makes it read).
        let feed = LogPollingFeed(StoreCommitFeed(store), store: store, every: 0, logger: Logger(label: "test"))
        defer { feed.stop() }
        feed.start(after: try store.head().sequence) { changes in seen.withLock { $0 += changes.map(\.sequence) } }
        let first = try create(store, "a").change.sequence
        // Another instance holds first+1, pending: this process's next commit must wait.
        let foreign = Change(
            sequence: first + 1, collection: "todos", id: "f", operation: .create, version: 1,
            document: #"{"id":"f","_v":1}"#, previous: nil, origin: nil, time: ChangeLog.now())
        try store.log.insert(foreign, creation: 0, state: .pending)
        let mine = try create(store, "b").change.sequence
        #expect(mine == first + 2)
        Thread.sleep(forTimeInterval: 0.3)
        #expect(seen.withLock { $0 } == [first])
        // The other instance finishes: both arrive, in order.
        _ = try store.pool.insert(
            "todos", MongoDocument.bson(JSONObject([("id", .string("f")), ("_v", .int(1))]), id: "f", creation: first + 1))
        #expect(try store.log.settle(first + 1, as: .done))
        let deadline = Date().addingTimeInterval(5)
        while seen.withLock({ $0.count }) < 3 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        #expect(seen.withLock { $0 } == [first, first + 1, mine])
    }

    @Test func aServerThatIsAwayIsUnavailable() throws {
        let store = try MongoStore(connectionString: "mongodb://127.0.0.1:9/db", logger: Logger(label: "test"))
        #expect(!store.health().ok)
        do {
            try store.prepare([])
            Issue.record("prepare against a closed port succeeded")
        } catch {
            guard case .unavailable = error else {
                Issue.record("expected unavailable, got \(error)")
                return
            }
        }
    }

    /// The description goes to logs: no password, and no query string (its options can
    /// hold one, `tlsCertificateKeyFilePassword`).
    @Test func theDescriptionHoldsNoSecret() throws {
        let store = try MongoStore(
            connectionString: "mongodb://ann:s3cret@127.0.0.1:9/db?tls=true&tlsCertificateKeyFilePassword=hunter2",
            logger: Logger(label: "test"))
        #expect(store.description == "mongodb://…@127.0.0.1:9/db")
    }
}

@Suite struct MongoErrorTests {
    @Test func aDuplicateKeyNamesItsField() {
        #expect(
            MongoError.duplicateField(in: #"E11000 duplicate key error collection: db.todos index: ux_slug dup key: { slug: "milk" }"#)
                == "slug")
        #expect(
            MongoError.duplicateField(in: #"E11000 duplicate key error collection: db.todos index: ux_owner.name dup key: { : "ann" }"#)
                == "owner.name")
        #expect(
            MongoError.duplicateField(in: #"E11000 duplicate key error collection: db.todos index: _id_ dup key: { _id: "a" }"#) == "_id")
        let unique = MongoError(
            writeError: JSONObject([
                ("code", .int(11000)), ("errmsg", .string("E11000")), ("keyPattern", .object(JSONObject([("slug", .int(1))]))),
            ]))
        guard case .uniqueViolation(let field) = unique.storeError else {
            Issue.record("\(unique.storeError)")
            return
        }
        #expect(field == "slug")
        guard
            case .duplicateID = MongoError(
                writeError: JSONObject([("code", .int(11000)), ("errmsg", .string("E11000 index: _id_ dup key: { _id: 1 }"))])
            ).storeError
        else {
            Issue.record("a duplicate _id is a duplicate id")
            return
        }
    }
}
