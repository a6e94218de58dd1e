import DocumentStore
import GRDB

/// Export, import and a new epoch (see `BulkTransfer`). An export reads in one
/// snapshot; an import is one transaction, so a failure anywhere leaves the file as it
/// was. The epoch is `meta.epoch`, read when a store opens: a server running on the
/// file keeps the one it opened with, which is why these run with the server stopped.
extension SQLiteStore: BulkTransfer {
    static let transferBatch = 1000

    /// Makes a missing collection's table (empty), never an index.
    public func attach(_ collections: [CollectionLayout]) throws(StoreError) {
        do {
            try pool.write { db in
                for layout in collections { try Self.createTableOnly(Self.table(layout.name), in: db) }
            }
        } catch {
            throw Self.map(error)
        }
        readers.invalidate()
        for layout in collections { layouts.set(layout) }
    }

    public func collectionNames() throws(StoreError) -> [String] {
        do {
            return try pool.read { db in
                try String.fetchAll(
                    db, sql: "SELECT substr(name, 5) FROM sqlite_master WHERE type = 'table' AND name LIKE 'doc.%' ORDER BY rowid")
            }
        } catch {
            throw Self.map(error)
        }
    }

    public func count(_ collection: String) throws(StoreError) -> Int {
        let table = try tableName(collection)
        do {
            return try pool.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") ?? 0 }
        } catch {
            throw Self.map(error)
        }
    }

    public func exportDocuments(
        _ collections: [String], start: (ChangeCursor) throws -> Void, batch: (String, [StoredDocument]) throws -> Void
    ) throws {
        let tables = try collections.map { (c) throws(StoreError) in (c, try tableName(c)) }
        try pool.read { db in
            try start(ChangeCursor(epoch: try Self.storedEpoch(db), sequence: try ChangeLogTables.head(db)))
            for (collection, table) in tables {
                let rows = try Row.fetchCursor(db, sql: "SELECT id, v, body FROM \(table) ORDER BY rowid")
                var documents: [StoredDocument] = []
                documents.reserveCapacity(Self.transferBatch)
                while let row = try rows.next() {
                    documents.append(StoredDocument(id: row[0], version: row[1], json: row[2]))
                    if documents.count == Self.transferBatch {
                        try batch(collection, documents)
                        documents.removeAll(keepingCapacity: true)
                    }
                }
                if !documents.isEmpty { try batch(collection, documents) }
            }
        }
    }

    public func existing(_ collection: String, ids: [String]) throws(StoreError) -> Set<String> {
        let table = try tableName(collection)
        do {
            return try pool.read { db in
                var found: Set<String> = []
                var rest = ids[...]
                while !rest.isEmpty {
                    let chunk = rest.prefix(500)
                    rest = rest.dropFirst(chunk.count)
                    let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
                    let rows = try String.fetchCursor(
                        db, sql: "SELECT id FROM \(table) WHERE id IN (\(marks))", arguments: StatementArguments(Array(chunk)))
                    while let id = try rows.next() { found.insert(id) }
                }
                return found
            }
        } catch {
            throw Self.map(error)
        }
    }

    public func importDocuments(_ feed: ((String, StoredDocument) throws -> Void) throws -> Void) throws -> String {
        let epoch = randomEpoch(not: self.epoch)
        try pool.write { db in
            var statements: [String: Statement] = [:]
            try feed { collection, document in
                let statement: Statement
                if let cached = statements[collection] {
                    statement = cached
                } else {
                    let table = try tableName(collection)
                    statement = try db.makeStatement(sql: "INSERT INTO \(table) (id, v, body) VALUES (?, ?, ?)")
                    statements[collection] = statement
                }
                do {
                    try statement.execute(arguments: [document.id, document.version, document.json])
                } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT {
                    let field = UniqueIndexName.field(in: error.message ?? "")
                    throw BulkInsertError(
                        collection: collection, id: document.id, error: field.map { .uniqueViolation(field: $0) } ?? .duplicateID)
                }
            }
            try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'epoch'", arguments: [epoch])
        }
        readers.invalidate()
        documents.clear()
        return epoch
    }

    public func renewEpoch() throws(StoreError) -> String {
        let epoch = randomEpoch(not: self.epoch)
        do {
            try pool.write { db in try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'epoch'", arguments: [epoch]) }
        } catch {
            throw Self.map(error)
        }
        return epoch
    }

    static func storedEpoch(_ db: Database) throws -> String {
        try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") ?? ""
    }
}
