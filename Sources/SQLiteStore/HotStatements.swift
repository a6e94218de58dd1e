import CSQLite
import DocumentStore
import GRDB

/// The statements every document read and write runs, prepared once per connection by
/// GRDB and stepped through SQLite's C API: `GET /{c}/{id}`, each write of a batch, and
/// the transaction around the batch.
///
/// GRDB's typed fetch and execute (arguments as existentials, a generic cursor, a
/// cached-statement lookup by SQL text) cost as much as SQLite's own work on these
/// one-row statements (bench/NOTES.md#hot-statements). GRDB documents `Statement.sqliteStatement` for this use; the
/// statements stay GRDB's and are only used inside their connection's serialized access
/// (a thread's reader, or the pool's one writer). This file is the only place that calls
/// `sqlite3_*` on a statement.
///
/// One instance belongs to one connection, and that connection's serialized access is
/// what makes the unlocked cache safe (hence `@unchecked Sendable`). GRDB's own queue
/// check does not run on raw `sqlite3_*` calls, so `statement(_:_:_:)`, the way into
/// every statement here, asserts both in debug builds: that the caller is inside the
/// connection's access, and that a cached statement belongs to the connection given.
final class HotStatements: @unchecked Sendable {
    enum Kind: Hashable {
        case read, insert, update, delete, logChange
        case begin, commit
    }

    private struct Key: Hashable {
        let table: String
        let kind: Kind
    }

    private var statements: [Key: Statement] = [:]

    /// A value bound to a statement parameter.
    enum Value {
        case text(String)
        case integer(Int64)
        case null

        init(_ text: String?) {
            self = text.map { .text($0) } ?? .null
        }
    }

    /// Document `id` of `table`, or nil when there is none.
    func read(_ table: String, id: String, in db: Database) throws -> StoredDocument? {
        let handle = try statement(.read, table, db).sqliteStatement
        defer { sqlite3_reset(handle) }
        try bind([.text(id)], to: handle, db)
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW:
            let version = sqlite3_column_int64(handle, 0)
            let count = Int(sqlite3_column_bytes(handle, 1))
            guard let text = sqlite3_column_text(handle, 1) else { return StoredDocument(id: id, version: version, json: "") }
            let json = String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
            return StoredDocument(id: id, version: version, json: json)
        case SQLITE_DONE:
            return nil
        default:
            throw Self.error(code, db)
        }
    }

    /// Runs a write statement of `table` (`logChange`: a table of the change log) with `values`.
    func execute(_ kind: Kind, _ table: String, _ values: [Value], in db: Database) throws {
        let handle = try statement(kind, table, db).sqliteStatement
        defer { sqlite3_reset(handle) }
        try bind(values, to: handle, db)
        let code = sqlite3_step(handle)
        guard code == SQLITE_DONE else { throw Self.error(code, db) }
    }

    /// Runs `body` in one immediate transaction whose BEGIN and COMMIT are prepared once
    /// (GRDB's `inTransaction` parses both anew for every commit). On an error the
    /// transaction is rolled back (by GRDB, which copes with one SQLite already ended)
    /// and the error rethrown.
    func inImmediateTransaction(_ db: Database, _ body: () throws -> Void) throws {
        try execute(.begin, "", [], in: db)
        do {
            try body()
            // As GRDB's `inTransaction` checks: a transaction SQLite rolled back on its
            // own (a full disk, a trigger's RAISE(ROLLBACK)) is named, not left to
            // COMMIT's "no transaction is active".
            guard db.isInsideTransaction else {
                throw DatabaseError(resultCode: .SQLITE_ABORT, message: "the transaction was rolled back by SQLite")
            }
            try execute(.commit, "", [], in: db)
        } catch {
            try? db.rollback()
            throw error
        }
    }

    private func statement(_ kind: Kind, _ table: String, _ db: Database) throws -> Statement {
        db.assertSerializedAccess()
        let key = Key(table: table, kind: kind)
        if let statement = statements[key] {
            assert(
                sqlite3_db_handle(statement.sqliteStatement) == db.sqliteConnection,
                "HotStatements used with a second connection")
            return statement
        }
        let sql =
            switch kind {
            case .read: "SELECT v, body FROM \(table) WHERE id = ?"
            case .insert: "INSERT INTO \(table) (id, v, body) VALUES (?, ?, ?)"
            case .update: "UPDATE \(table) SET v = ?, body = ? WHERE id = ?"
            case .delete: "DELETE FROM \(table) WHERE id = ?"
            case .logChange:
                "INSERT INTO \(table) (seq, collection, doc_id, op, v, doc, prev, origin, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            case .begin: "BEGIN IMMEDIATE"
            case .commit: "COMMIT"
            }
        let statement = try db.makeStatement(sql: sql)
        statements[key] = statement
        return statement
    }

    private func bind(_ values: [Value], to handle: OpaquePointer, _ db: Database) throws {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32 =
                switch value {
                case .text(let text): text.withCString { CSQLite_bind_text_copy(handle, index, $0, Int32(text.utf8.count)) }
                case .integer(let number): sqlite3_bind_int64(handle, index, number)
                case .null: sqlite3_bind_null(handle, index)
                }
            guard code == SQLITE_OK else { throw Self.error(code, db) }
        }
    }

    /// The same error GRDB would throw (a constraint's message names the index).
    private static func error(_ code: Int32, _ db: Database) -> DatabaseError {
        let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }
}
