import CSQLite
import GRDB

/// `SELECT v, body FROM <table> WHERE id = ?` on a statement GRDB prepared, stepped
/// through SQLite's C API: the hot path of `GET /{c}/{id}`.
///
/// GRDB's typed fetch (arguments as existentials, a generic cursor, a cached-statement
/// lookup by SQL text) cost about twice what SQLite spends on the read itself. GRDB
/// documents `Statement.sqliteStatement` for this use; the statement stays GRDB's and is
/// only used inside its connection's serialized access. This file is the only place
/// that calls `sqlite3_*` on a statement.
final class DocumentLookup {
    private let statement: Statement

    init(table: String, in db: Database) throws {
        statement = try db.makeStatement(sql: "SELECT v, body FROM \(table) WHERE id = ?")
    }

    /// The document's version and JSON text, or nil when there is no such id.
    func fetch(_ id: String, in db: Database) throws -> (version: Int64, json: String)? {
        let handle = statement.sqliteStatement
        // SQLITE_STATIC (nil): `id`'s bytes outlive the step; bindings are cleared before
        // `withCString` returns.
        return try id.withCString { bytes throws -> (version: Int64, json: String)? in
            defer {
                sqlite3_reset(handle)
                sqlite3_clear_bindings(handle)
            }
            var code = sqlite3_bind_text(handle, 1, bytes, -1, nil)
            guard code == SQLITE_OK else { throw Self.error(code, db) }
            code = sqlite3_step(handle)
            switch code {
            case SQLITE_ROW:
                let version = sqlite3_column_int64(handle, 0)
                let count = Int(sqlite3_column_bytes(handle, 1))
                guard let text = sqlite3_column_text(handle, 1) else { return (version, "") }
                return (version, String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
            case SQLITE_DONE:
                return nil
            default:
                throw Self.error(code, db)
            }
        }
    }

    private static func error(_ code: Int32, _ db: Database) -> DatabaseError {
        let message = sqlite3_errmsg(db.sqliteConnection).map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message)
    }
}

/// One connection's document reads, prepared once per table. `@unchecked`: used only
/// inside that connection's serialized access (a thread's reader, or the pool's one
/// writer).
final class DocumentLookups: @unchecked Sendable {
    private var lookups: [String: DocumentLookup] = [:]

    func lookup(_ table: String, _ db: Database) throws -> DocumentLookup {
        if let lookup = lookups[table] { return lookup }
        let lookup = try DocumentLookup(table: table, in: db)
        lookups[table] = lookup
        return lookup
    }
}
