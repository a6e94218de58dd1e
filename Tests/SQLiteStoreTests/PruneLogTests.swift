import DocumentStore
import Foundation
import CSQLite
import GRDB
@testable import SQLiteStore
import Testing

/// The change log in generations: pruning moves the low-water mark at once, and a table
/// is emptied only when all of it is past the mark.
@Suite struct PruneLogTests {
    @Test func pruningPastTheNewestKeepsExactlyTheNewest() throws {
        let store = try makeStore()
        for n in 0..<35 { try insert(store, #"{"id":"d\#(n)","_v":1}"#) }
        let head = try store.head().sequence
        #expect(try store.pruneLog(keep: 3, maxAge: 3600) == 32)
        #expect(try store.changes(after: 0, limit: 100).map(\.sequence) == [head - 2, head - 1, head])
        #expect(try store.logBounds() == LogBounds(oldest: head - 2, newest: head))
        #expect(try store.pruneLog(keep: 3, maxAge: 3600) == 0)
    }

    @Test func pruningByAgeDropsEverythingOlder() throws {
        let store = try makeStore()
        for n in 0..<10 { try insert(store, #"{"id":"d\#(n)","_v":1}"#) }
        Thread.sleep(forTimeInterval: 0.01)
        // Every entry is older than 0 seconds; none is past the newest 1,000.
        #expect(try store.pruneLog(keep: 1000, maxAge: 0) == 10)
        #expect(try store.changes(after: 0, limit: 100).isEmpty)
        #expect(try store.logBounds().oldest == nil)
        // The sequence goes on.
        try insert(store, #"{"id":"later","_v":1}"#)
        #expect(try store.logBounds().oldest == store.head().sequence)
        #expect(try store.changes(after: 0, limit: 100).map(\.sequence) == [store.head().sequence])
    }

    @Test func writesMoveToAnEmptiedTableAndTheLogStaysWhole() throws {
        let store = try makeStore()
        _ = try store.pruneLog(keep: 4_000, maxAge: 3600)  // generations of 1,000 entries
        var last: Int64 = 0
        for round in 0..<6 {
            for n in 0..<1_500 { last = try logged(store, "r\(round)n\(n)") }
            _ = try store.pruneLog(keep: 4_000, maxAge: 3600)
        }
        // 9,000 entries went through; the newest 4,000 are read back in order, and the
        // tables that held only older ones were emptied and written again.
        let kept = try store.changes(after: 0, limit: 10_000).map(\.sequence)
        let newest: [Int64] = Array((last - 3_999)...last)
        #expect(kept == newest)
        let rows = try store.pool.read { db in
            try (0..<8).map { n -> Int in
                guard try db.tableExists("changes_\(n)") else { return -1 }
                return try Int.fetchOne(db, sql: "SELECT count(*) FROM changes_\(n)") ?? 0
            }
        }
        let tables = rows.filter { $0 >= 0 }.count
        let stored = rows.filter { $0 > 0 }.reduce(0, +)
        #expect(tables <= 7)
        #expect(stored < 6_000)
        // Reopened, the writer goes on from the file's state.
        let reopened = try SQLiteStore(path: store.path, logger: .init(label: "test"))
        try reopened.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        let next = try logged(reopened, "after")
        #expect(next == last + 1)
        #expect(try reopened.changes(after: last - 1, limit: 10).map(\.sequence) == [last, next])
    }
}

/// Inserts a document and returns the sequence its change was logged at.
private func logged(_ store: SQLiteStore, _ id: String) throws -> Int64 {
    let document = JSONObject([("id", .string(id))])
    return try write(store, id) { _ in .insert(document, version: 1) }.get().change.sequence
}

/// A store written before the log's generations opens with its log as it was.
@Suite struct ChangeLogMigrationTests {
    @Test func aSingleTableLogMovesIntoTheFirstGeneration() throws {
        let path = try Self.singleTableStore()
        let store = try SQLiteStore(path: path, logger: .init(label: "test"))
        try store.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        #expect(store.epoch == "a1b2c3d4")
        #expect(try store.logBounds() == LogBounds(oldest: 8, newest: 12))
        #expect(try store.changes(after: 0, limit: 100).map(\.id) == ["d8", "d9", "d10", "d11", "d12"])
        #expect(try logged(store, "new") == 13)
        #expect(try store.changes(after: 11, limit: 100).map(\.sequence) == [12, 13])
    }

    @Test func aBackupInTheOldFormatRestoresAndServes() throws {
        let backup = try Self.singleTableStore()
        let target = (backup as NSString).deletingLastPathComponent + "/restored.sqlite"
        let summary = try SQLiteBackup.restore(from: backup, into: target)
        #expect(summary.head == 12)
        let store = try SQLiteStore(path: target, logger: .init(label: "test"))
        #expect(try store.logBounds() == LogBounds(oldest: 8, newest: 12))
    }

    /// A store file as servers before the generations wrote it: one `changes` table,
    /// entries 8 to 12 left after a prune.
    static func singleTableStore() throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sqlite-v1-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("app.sqlite").path
        let old = try DatabaseQueue(path: path)
        try old.write { db in
            try db.execute(
                sql: """
                    CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                    INSERT INTO grdb_migrations VALUES ('v1');
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    INSERT INTO meta VALUES ('epoch', 'a1b2c3d4');
                    CREATE TABLE changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, collection TEXT NOT NULL,
                        doc_id TEXT NOT NULL, op TEXT NOT NULL, v INTEGER NOT NULL, doc TEXT, prev TEXT, origin TEXT,
                        at INTEGER NOT NULL);
                    CREATE INDEX changes_at ON changes(at);
                    """)
            for seq in 1...12 {
                try db.execute(
                    sql: "INSERT INTO changes (collection, doc_id, op, v, doc, at) VALUES ('todos', ?, 'create', 1, '{}', ?)",
                    arguments: ["d\(seq)", 1_700_000_000_000 + seq])
            }
            try db.execute(sql: "DELETE FROM changes WHERE seq <= 7")  // pruned by the old server
        }
        try old.close()
        return path
    }
}

/// The writer's state of the log can be forgotten at any moment (a failed transaction,
/// a prune's error) and read back from the file, even in the middle of a transaction.
@Suite struct ChangeLogTablesTests {
    @Test func stateForgottenMidTransactionComesBackFromTheEntries() throws {
        let queue = try DatabaseQueue()
        try SQLiteStore.migrator.migrate(queue)
        let log = ChangeLogTables()
        try queue.write { db in
            for _ in 0..<3 {
                let (sequence, table) = try log.next(in: db)
                try db.execute(
                    sql: "INSERT INTO \(table) (seq, collection, doc_id, op, v, at) VALUES (?, 'todos', 'x', 'create', 1, 0)",
                    arguments: [sequence])
            }
            log.forget()
            try log.finish(in: db)
        }
        #expect(try queue.read { try ChangeLogTables.head($0) } == 3)
        let next = try queue.write { db in try log.next(in: db).sequence }
        #expect(next == 4)
    }
}

/// A file upgraded by a newer version is not served by this one.
@Suite struct NewerSchemaTests {
    @Test func aFileWithAnUnknownMigrationIsRefused() throws {
        let path = try makeStore().path
        let queue = try DatabaseQueue(path: path)
        try queue.write { try $0.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99-from-the-future')") }
        try queue.close()
        #expect {
            _ = try SQLiteStore(path: path, logger: .init(label: "test"))
        } throws: { error in
            guard case StoreError.unavailable(let message) = error else { return false }
            return message.contains("newer backbone-sse")
        }
    }
}

/// Reads of the newest entries visit only those, however long the log retained below
/// them: the view's low-water mark must not become the index bound (it did, and a
/// list's count carried forward over 100 writes walked 100,000 entries).
@Suite struct ChangeLogViewTests {
    @Test func aRangeOfTheNewestEntriesVisitsOnlyThatRange() throws {
        let store = try makeStore()
        _ = try store.pruneLog(keep: 100_000, maxAge: 3600)
        try store.pool.write { db in
            try db.execute(
                sql: """
                    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
                    INSERT INTO changes_0 (seq, collection, doc_id, op, v, doc, at)
                    SELECT x, 'todos', 'd' || x, 'create', 1, '{}', 0 FROM n
                    """)
            try db.execute(sql: "UPDATE log_state SET head = 5000, low = 2")
        }
        let steps = { (sql: String) -> Int32 in
            try store.pool.read { db in
                let statement = try db.makeStatement(sql: sql)
                _ = try Row.fetchAll(statement)
                return sqlite3_stmt_status(statement.sqliteStatement, SQLITE_STMTSTATUS_VM_STEP, 0)
            }
        }
        // The same statements as the replay and the count carried forward, on 10 entries.
        let replay = try steps("SELECT seq, doc FROM changes WHERE seq > 4990 ORDER BY seq LIMIT 100")
        let count = try steps("SELECT count(*) FROM changes WHERE seq > 4990 AND seq <= 5000")
        #expect(replay < 1_000)
        #expect(count < 1_000)
        // and all of the retained log when asked for it
        #expect(try steps("SELECT count(*) FROM changes WHERE seq > 0") > 5_000)
    }
}
