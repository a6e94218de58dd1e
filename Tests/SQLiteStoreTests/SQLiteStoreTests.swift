import DocumentStore
import Foundation
import GRDB
import Logging
import SQLiteStore
import TestSupport
import Testing

/// A store in a fresh temporary folder with a `todos` collection.
func makeStore(
    durability: SQLiteStore.Durability = .normal, readCacheBytes: Int = SQLiteStore.defaultReadCacheBytes
) throws -> SQLiteStore {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-store-\(UUID().uuidString)")
    let store = try SQLiteStore(
        path: dir.appendingPathComponent("app.sqlite").path, durability: durability, readCacheBytes: readCacheBytes,
        logger: Logger(label: "test"))
    try store.prepare([
        CollectionLayout(
            name: "todos", indexes: [FieldPath("done")!, FieldPath("owner.name")!], unique: [FieldPath("slug")!],
            scalarPaths: [FieldPath("done")!, FieldPath("title")!, FieldPath("slug")!, FieldPath("owner.name")!])
    ])
    return store
}

/// Writes synchronously (the store answers through a callback).
func write(
    _ store: SQLiteStore, _ id: String, _ decide: @escaping @Sendable (StoredDocument?) throws -> WriteDecision
) -> Result<WriteResult, StoreError> {
    // A decision that throws (a test's own mistake) refuses the write.
    waitFor {
        store.write(WriteRequest(collection: "todos", id: id, origin: "test", decide: { (try? decide($0)) ?? .refuse }), completion: $0)
    }
}

func insert(_ store: SQLiteStore, _ json: String) throws {
    let object = try #require(try JSONParser.parse(json).objectValue)
    let id = try #require(object["id"]?.stringValue)
    _ = try write(store, id) { _ in .insert(object, version: 1) }.get()
}

@Suite struct SQLiteStoreTests {
    @Test func writesDocumentAndChangeTogether() throws {
        let store = try makeStore()
        let before = try store.head()
        let result = try write(store, "a") { current in
            #expect(current == nil)
            return .insert(JSONObject([("id", .string("a")), ("title", .string("x")), ("_v", .int(1))]), version: 1)
        }.get()
        #expect(result.change.sequence == before.sequence + 1)
        #expect(result.change.operation == .create)
        #expect(result.change.origin == "test")
        #expect(try store.head().sequence == result.change.sequence)
        #expect(try store.get("todos", id: "a")?.version == 1)
    }

    /// Ids are bound with their UTF-8 length, never as C strings: an id with a NUL is
    /// not the id before it (the app refuses such ids; the store must not cut them).
    @Test func anIdWithANulIsNotCutAtIt() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","_v":1}"#)
        #expect(try store.get("todos", id: "a\0b") == nil)
        _ = try write(store, "a\0b") { current in
            #expect(current == nil)
            return .insert(JSONObject([("id", .string("a\0b")), ("_v", .int(1))]), version: 1)
        }.get()
        #expect(try store.get("todos", id: "a\0b")?.id == "a\0b")
        #expect(try store.get("todos", id: "a")?.id == "a")
    }

    /// An error that is no write's own fault (here a trigger's malformed JSON), or one
    /// that ends the transaction (a trigger's RAISE(ROLLBACK)), fails the whole batch:
    /// nothing of it is stored, the change log does not move, and the transaction is
    /// rolled back, not left open, so the next write commits as usual.
    @Test func aFailedBatchLeavesNothingAndTheNextWriteCommits() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-store-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("app.sqlite").path
        let store = try SQLiteStore(path: path, logger: Logger(label: "test"))
        try store.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        try insert(store, #"{"id":"a","_v":1}"#)
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        try DatabaseQueue(path: path, configuration: configuration).write { db in
            try db.execute(
                sql: """
                    CREATE TRIGGER boom BEFORE INSERT ON "doc.todos" WHEN NEW.id = 'boom'
                    BEGIN SELECT json_extract('not json', '$'); END;
                    CREATE TRIGGER undo BEFORE INSERT ON "doc.todos" WHEN NEW.id = 'undo'
                    BEGIN SELECT RAISE(ROLLBACK, 'undone'); END;
                    """)
        }
        let head = try store.head()

        // The second ends the transaction itself (a constraint error, which alone fails
        // only its own write when the transaction goes on).
        for id in ["boom", "undo"] {
            let failed = write(store, id) { _ in .insert(JSONObject([("id", .string(id)), ("_v", .int(1))]), version: 1) }
            guard case .failure(let error) = failed, case .internalError = error else {
                Issue.record("expected the batch to fail, got \(failed)")
                return
            }
            #expect(try store.get("todos", id: id) == nil)
            #expect(try store.head() == head)
        }

        try insert(store, #"{"id":"b","_v":1}"#)
        #expect(try store.get("todos", id: "b")?.version == 1)
        #expect(try store.head().sequence == head.sequence + 1)
    }

    @Test func refusedWriteLeavesNothing() throws {
        let store = try makeStore()
        let head = try store.head()
        let result = write(store, "a") { _ in .refuse }
        guard case .failure(.refused) = result else {
            Issue.record("expected refused, got \(result)")
            return
        }
        #expect(try store.get("todos", id: "a") == nil)
        #expect(try store.head() == head)
    }

    @Test func uniqueFieldClashNamesTheField() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","slug":"s","_v":1}"#)
        let result = write(store, "b") { _ in .insert(JSONObject([("id", .string("b")), ("slug", .string("s"))]), version: 1) }
        guard case .failure(.uniqueViolation(let field)) = result else {
            Issue.record("expected unique violation, got \(result)")
            return
        }
        #expect(field == "slug")
        #expect(try store.get("todos", id: "b") == nil)
    }

    @Test func listCursorReflectsTheSnapshot() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","_v":1}"#)
        try insert(store, #"{"id":"b","_v":1}"#)
        let page = try store.list("todos", query: ListQuery())
        #expect(page.documents.map(\.id) == ["a", "b"])
        #expect(page.cursor == (try store.head()))
        #expect(page.total == nil)
    }

    @Test func truncatedListCountsTheTotal() throws {
        let store = try makeStore()
        for i in 0..<5 { try insert(store, #"{"id":"d\#(i)","_v":1}"#) }
        let page = try store.list("todos", query: ListQuery(limit: 2, skip: 1))
        #expect(page.documents.map(\.id) == ["d1", "d2"])
        #expect(page.total == 5)
    }

    /// A count is carried to a new head through the change log (`CountDelta`), and
    /// counted again when the log no longer holds every write since it was taken.
    @Test func aCountIsCountedAgainWhenTheLogLostWritesSinceIt() throws {
        let store = try makeStore()
        let open = ListQuery(filter: .compare(FieldPath("done")!, .eq, .bool(false)), limit: 1)
        for i in 0..<5 { try insert(store, #"{"id":"d\#(i)","done":false,"_v":1}"#) }
        #expect(try store.list("todos", query: open).total == 5)
        try insert(store, #"{"id":"d5","done":false,"_v":1}"#)
        #expect(try store.list("todos", query: open).total == 6)
        for i in 6..<9 { try insert(store, #"{"id":"d\#(i)","done":false,"_v":1}"#) }
        #expect(try store.pruneLog(keep: 1, maxAge: 3600) > 0)
        try insert(store, #"{"id":"d9","done":false,"_v":1}"#)
        #expect(try store.list("todos", query: open).total == 10)
    }

    @Test func concurrentWritesGetDistinctIncreasingSequences() throws {
        let store = try makeStore(durability: .full)
        let sequences = ConcurrentBox()
        DispatchQueue.concurrentPerform(iterations: 200) { i in
            let result = write(store, "c\(i)") { _ in .insert(JSONObject([("id", .string("c\(i)"))]), version: 1) }
            if case .success(let w) = result { sequences.append(w.change.sequence) }
        }
        let all = sequences.values.sorted()
        #expect(all.count == 200)
        #expect(Set(all).count == 200)
        #expect(try store.list("todos", query: ListQuery(limit: 1000)).documents.count == 200)
    }

    /// A commit that holds its writes back past the threshold is logged, with where the
    /// time went; a quick one is not. Here another connection (another process, say)
    /// holds the file's write lock for 400 ms, so the commit waits inside its transaction.
    @Test func aSlowCommitIsLoggedWithWhereItsTimeWent() throws {
        let log = CapturedLog()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-store-\(UUID().uuidString)")
        let path = dir.appendingPathComponent("app.sqlite").path
        let store = try SQLiteStore(path: path, slowCommit: .milliseconds(100), logger: log.logger)
        try store.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        try insert(store, #"{"id":"quick","_v":1}"#)
        #expect(log.lines(.warning).isEmpty)

        let other = try DatabaseQueue(path: path)
        let locked = DispatchSemaphore(value: 0)
        let holder = Thread {
            try? other.writeWithoutTransaction { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                locked.signal()
                Thread.sleep(forTimeInterval: 0.4)
                try db.execute(sql: "COMMIT")
            }
        }
        holder.start()
        locked.wait()
        let started = Date()
        try insert(store, #"{"id":"slow","_v":1}"#)
        #expect(Date().timeIntervalSince(started) >= 0.3)
        let slow = log.all.filter { $0.level == .warning }
        #expect(slow.map(\.message) == ["slow commit: writes waited on the store's writer"])
        #expect(slow.first?.metadata["store.batch"] == "1")
        let inside = Int(slow.first?.metadata["store.transaction_ms"]?.description ?? "") ?? 0
        #expect(inside >= 300, "the lock was held 400 ms: \(slow)")
    }
}

final class ConcurrentBox: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int64] = []
    func append(_ v: Int64) {
        lock.lock()
        storage.append(v)
        lock.unlock()
    }
    var values: [Int64] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}
