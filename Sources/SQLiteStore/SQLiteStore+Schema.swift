import DocumentStore
import Foundation
import GRDB
import Synchronization

extension SQLiteStore {
    /// The tables every store file has. Collection tables are made by `prepare`.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
                    CREATE TABLE changes (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        collection TEXT NOT NULL,
                        doc_id TEXT NOT NULL,
                        op TEXT NOT NULL,
                        v INTEGER NOT NULL,
                        doc TEXT,
                        prev TEXT,
                        origin TEXT,
                        at INTEGER NOT NULL
                    );
                    CREATE INDEX changes_at ON changes(at);
                    """)
            // A random epoch, so that a cursor of a wiped or replaced store is foreign here.
            let epoch = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
            try db.execute(sql: "INSERT INTO meta (key, value) VALUES ('epoch', ?)", arguments: [epoch])
        }
        // The log in generations (`ChangeLogTables`): its entries move to the first
        // table, the head and the oldest entry become the state, the index on `at` goes
        // (age is checked from the oldest entry on, in sequence order).
        migrator.registerMigration("v2-log-generations") { db in
            try db.execute(
                sql: "CREATE TABLE log_state (id INTEGER PRIMARY KEY CHECK (id = 0), head INTEGER NOT NULL, low INTEGER NOT NULL)")
            let head = try ChangeLogTables.singleTableHead(db)
            let oldest = try Int64.fetchOne(db, sql: "SELECT min(seq) FROM changes") ?? head + 1
            try db.execute(sql: "INSERT INTO log_state (id, head, low) VALUES (0, ?, ?)", arguments: [head, oldest])
            try ChangeLogTables.createTable(0, in: db)
            try db.execute(sql: "INSERT INTO changes_0 SELECT * FROM changes")
            try db.execute(sql: "DROP TABLE changes")
            try ChangeLogTables.createView(tables: 1, in: db)
        }
        return migrator
    }

    /// A collection's table and its indexes. Indexes left over from an earlier config
    /// are dropped, so the file matches the config it runs with.
    static func createTable(for layout: CollectionLayout, in db: Database) throws {
        let table = table(layout.name)
        try createTableOnly(table, in: db)
        var wanted: Set<String> = []
        for path in layout.indexes {
            let name = "ix.\(layout.name).\(path)"
            wanted.insert(name)
            try db.execute(sql: "CREATE INDEX IF NOT EXISTS \"\(name)\" ON \(table)(\(SQLiteFilter.expressions(path).value))")
        }
        for path in layout.unique {
            // The value and its JSON type: json_extract alone gives true and 1, false
            // and 0, an object and the string of its JSON text the same SQL value, so
            // they would clash though no query finds one for the other. Integers and
            // reals stay one kind (1 and 1.0 are the same number). Named anew (".typed")
            // so that a file indexed by the value alone gets this index instead.
            let name = UniqueIndexName.of(layout.name, path)
            wanted.insert(name)
            let (value, type) = SQLiteFilter.expressions(path)
            let kind = "CASE \(type) WHEN 'integer' THEN 'number' WHEN 'real' THEN 'number' ELSE \(type) END"
            do {
                try db.execute(sql: "CREATE UNIQUE INDEX IF NOT EXISTS \"\(name)\" ON \(table)(\(value), \(kind))")
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                throw StoreError.internalError(
                    "\(layout.name).\(path) cannot be unique: documents already share a value of it (remove the duplicates, or the field from unique)"
                )
            }
        }
        let existing = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND (name LIKE 'ix.%' OR name LIKE 'ux.%')",
            arguments: ["doc.\(layout.name)"])
        for name in existing where !wanted.contains(name) {
            try db.execute(sql: "DROP INDEX \"\(name)\"")
        }
    }
}

extension SQLiteStore {
    /// The table of a collection, without its indexes.
    static func createTableOnly(_ table: String, in db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE IF NOT EXISTS \(table) (
                    rowid INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    v INTEGER NOT NULL,
                    body TEXT NOT NULL
                )
                """)
    }
}

/// The name of a unique index says its field, which a constraint failure reports back:
/// `ux.<collection>.<path>.typed` (".typed": on the value and its JSON type).
enum UniqueIndexName {
    static func of(_ collection: String, _ path: FieldPath) -> String {
        "ux.\(collection).\(path).typed"
    }

    /// The field path of a unique index named in `message` (SQLite's "UNIQUE
    /// constraint failed: index 'ux.…'"), or nil when none is.
    static func field(in message: String) -> String? {
        guard let range = message.range(of: "index 'ux.") else { return nil }
        let name = message[range.upperBound...].prefix { $0 != "'" }
        guard let dot = name.firstIndex(of: "."), name.hasSuffix(".typed") else { return nil }
        return String(name[name.index(after: dot)...].dropLast(".typed".count))
    }
}

/// The collections the store was prepared for, readable from any thread.
final class LayoutTable: Sendable {
    private let layouts = Mutex<[String: CollectionLayout]>([:])

    func set(_ layout: CollectionLayout) {
        layouts.withLock { $0[layout.name] = layout }
    }

    func get(_ name: String) -> CollectionLayout? {
        layouts.withLock { $0[name] }
    }

    /// Whether `name` is a prepared collection, without copying its layout out.
    func contains(_ name: String) -> Bool {
        layouts.withLock { $0[name] != nil }
    }
}
