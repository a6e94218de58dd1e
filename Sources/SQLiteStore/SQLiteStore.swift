import DocumentStore
import Foundation
import GRDB
import Logging

/// The embedded default store: one SQLite file in WAL mode through GRDB's
/// `DatabasePool` (concurrent readers, one writer). Each collection is a table with one
/// row per document; the change log (`ChangeLogTables`) is written in the same
/// transaction.
public final class SQLiteStore: DocumentStore {
    public enum Durability: String, Sendable, CaseIterable {
        /// Survives a crash of the process (WAL, synchronous=NORMAL).
        case normal
        /// Survives power loss (synchronous=FULL: fsync at every commit).
        case full
    }

    public let path: String
    let pool: DatabasePool
    let readers: ThreadReaders
    let logger: Logger
    /// The store's epoch: new when the file is created, so cursors from a wiped store
    /// are recognised as foreign.
    public let epoch: String
    let layouts = LayoutTable()
    /// Totals of truncated lists: a count scans every match, the page does not.
    let counts = CountCache(capacity: 512)
    /// Documents by id, until a commit changes them (`GET /{c}/{id}`).
    let documents: DocumentCache
    let batcher: WriteBatcher
    let checkpointer: WALCheckpointer
    /// The change log's tables and the writer's place in them.
    let changeLog = ChangeLogTables()

    public var description: String { "sqlite:\(path)" }

    /// The page cache of each thread's read connection, unless told otherwise.
    public static let defaultReadCacheBytes = 64 << 20

    /// The documents kept in memory by id, unless told otherwise.
    public static let defaultDocumentCacheBytes = 64 << 20

    /// `readCacheBytes`: the page cache of each server thread's read connection (it fills
    /// as pages are read). `documentCacheBytes`: documents read by id kept until changed
    /// (0: none). `slowCommit`: a commit that holds its writes back longer is logged as a
    /// warning.
    public init(
        path: String, durability: Durability = .normal, readCacheBytes: Int = defaultReadCacheBytes,
        documentCacheBytes: Int = defaultDocumentCacheBytes, slowCommit: Duration = .seconds(1), logger: Logger
    ) throws(StoreError) {
        self.path = path
        self.logger = logger
        let documents = DocumentCache(maxCost: documentCacheBytes)
        self.documents = documents
        _ = SQLiteSettings.applied
        do {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            var configuration = Configuration()
            configuration.maximumReaderCount = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
            configuration.busyMode = .timeout(10)
            pool = try DatabasePool(path: path, configuration: configuration)
            readers = ThreadReaders(
                path: path, configuration: configuration, capacity: 8, cacheBytes: readCacheBytes)
            // DatabasePool sets synchronous=NORMAL itself, after prepareDatabase: FULL has
            // to be set afterwards, on the writer connection.
            if durability == .full {
                try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA synchronous = FULL") }
            }
            let migrator = Self.migrator
            // A file a newer version changed would take writes this one makes wrongly
            // (or not at all): it is left alone.
            if try pool.read(migrator.hasBeenSuperseded) {
                throw StoreError.unavailable(
                    "\(path) was upgraded by a newer backbone-sse (its schema has changes this version does not know): serve it with that version, or restore a backup taken before the upgrade"
                )
            }
            try migrator.migrate(pool)
            // Rows deleted are still overwritten in the pages a write changes anyway, but a
            // page freed whole is not written: emptying a change-log table then writes a
            // handful of pages, not all of them (Debian's SQLite overwrites every one).
            try pool.writeWithoutTransaction { try $0.execute(sql: "PRAGMA secure_delete = FAST") }
            checkpointer = try WALCheckpointer(path: path, pool: pool) { [readers] event in
                switch event {
                case .pinned: readers.endStaleSnapshotsSoon()
                case .long: readers.letGoAfterEachRead(true)
                case .startedOver: readers.letGoAfterEachRead(false)
                }
            }
            epoch = try pool.read { db in
                try String.fetchOne(db, sql: "SELECT value FROM meta WHERE key = 'epoch'") ?? ""
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.unavailable("cannot open \(path): \(error)")
        }
        batcher = WriteBatcher(
            pool: pool, epoch: epoch, changeLog: changeLog, logger: logger, commitsInlineWhenIdle: durability == .normal,
            slowCommit: slowCommit,
            committed: { [readers] changes in
                readers.invalidate()
                documents.committed(changes)
            })
    }

    public func prepare(_ collections: [CollectionLayout]) throws(StoreError) {
        do {
            try pool.write { db in
                for layout in collections {
                    try Self.createTable(for: layout, in: db)
                }
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError.internalError("cannot prepare collections: \(error)")
        }
        readers.invalidate()
        for layout in collections { layouts.set(layout) }
    }

    public func get(_ collection: String, id: String) throws(StoreError) -> StoredDocument? {
        try read(collection, id: id).document
    }

    public func read(_ collection: String, id: String) throws(StoreError) -> (document: StoredDocument?, cursor: ChangeCursor) {
        if let cached = documents.lookup(collection, id) {
            return (cached.document, ChangeCursor(epoch: epoch, sequence: cached.head))
        }
        let table = try tableName(collection)
        // The hot path of `GET /{c}/{id}`: this thread's snapshot and prepared statement
        // (see `HotStatements`); the head comes from the same snapshot.
        let read = try readingAtHead { db, head, statements in
            (document: try statements.read(table, id: id, in: db), head: head)
        }
        if let document = read.document { documents.store(collection, document, readAt: read.head) }
        return (read.document, ChangeCursor(epoch: epoch, sequence: read.head))
    }

    /// The budget is kept on the server threads' own connections (SQLite's progress
    /// handler stops the statement); reads from other threads run whole.
    public func list(_ collection: String, query: ListQuery, within budget: Duration?) throws(StoreError) -> ListResult {
        if budget == .zero { throw .overBudget }
        let (table, whereClause, select) = try listStatement(collection, query)
        let sql = select + " LIMIT ? OFFSET ?"
        let arguments = StatementArguments(values: whereClause.arguments + [(query.limit + 1).databaseValue, query.skip.databaseValue])
        // The head and the rows come from the same snapshot, so the cursor reflects
        // exactly what the list shows.
        return try readingAtHead(within: budget) { db, head, _ in
            var documents: [StoredDocument] = []
            let rows = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
            while let row = try rows.next() {
                documents.append(StoredDocument(id: row[0], version: row[1], json: row[2]))
            }
            var total: Int?
            if documents.count > query.limit || query.skip > 0 {
                documents.removeLast(max(0, documents.count - query.limit))
                let key = CountKey(table: table, sql: whereClause.sql, arguments: whereClause.arguments)
                let known = counts.latest(key, notAfter: head)
                if let known, known.head == head {
                    total = known.value
                } else {
                    let counted = try count(table, collection, query.filter, whereClause, from: known, head: head, in: db)
                    counts.store(key, head: head, value: counted)
                    total = counted
                }
            }
            return ListResult(documents: documents, total: total, cursor: ChangeCursor(epoch: epoch, sequence: head))
        }
    }

    public func write(_ write: WriteRequest, completion: @escaping @Sendable (Result<WriteResult, StoreError>) -> Void) {
        guard layouts.contains(write.collection) else {
            completion(.failure(.unknownCollection(write.collection)))
            return
        }
        batcher.submit(write, completion: completion)
    }

    public func head() throws(StoreError) -> ChangeCursor {
        try readingAtHead { _, head, _ in ChangeCursor(epoch: epoch, sequence: head) }
    }

    public func changes(after sequence: Int64, limit: Int) throws(StoreError) -> [Change] {
        try reading { db in
            let rows = try Row.fetchCursor(
                db.cachedStatement(
                    sql: "SELECT seq, collection, doc_id, op, v, doc, prev, origin, at FROM changes WHERE seq > ? ORDER BY seq LIMIT ?"),
                arguments: [sequence, limit])
            var out: [Change] = []
            while let row = try rows.next() {
                out.append(
                    Change(
                        sequence: row[0], collection: row[1], id: row[2], operation: Change.Operation(rawValue: row[3]) ?? .update,
                        version: row[4], document: row[5], previous: row[6], origin: row[7], time: row[8]))
            }
            return out
        }
    }

    public func logBounds() throws(StoreError) -> LogBounds {
        try readingAtHead { db, head, _ in
            LogBounds(oldest: try ChangeLogTables.oldest(db), newest: head)
        }
    }

    /// Moves the log's low-water mark past what retention lets go, then empties the
    /// tables wholly below it (`ChangeLogTables`). The oldest entry young enough to keep
    /// is found on a reader first (entries never change), so the writer is held only to
    /// move the mark, then for one table at a time, resting after each as long as it
    /// took: writes get in between (bench/NOTES.md#prune).
    public func pruneLog(keep: Int, maxAge: Int64) throws(StoreError) -> Int {
        changeLog.generationSize.store(max(1_000, keep / 4), ordering: .relaxed)
        let cutoff = Int64(Date().timeIntervalSince1970 * 1000) - maxAge * 1000
        do {
            let young = try pool.read { db in
                // The view already hides what is below the mark, but not as an index
                // bound (`ChangeLogTables.createView`): the mark given again here is
                // where the search starts, past the entries of tables not yet emptied.
                try Int64.fetchOne(
                    db, sql: "SELECT seq FROM changes WHERE seq >= (SELECT low FROM log_state) AND at >= ? ORDER BY seq LIMIT 1",
                    arguments: [cutoff])
                    ?? ChangeLogTables.head(db) + 1
            }
            let dropped = try pool.write { [changeLog] db in try changeLog.prune(keepingNewest: keep, from: young, in: db) }
            if dropped > 0 { readers.invalidate() }
            while true {
                let started = DispatchTime.now().uptimeNanoseconds
                guard try pool.write({ [changeLog] db in try changeLog.emptyOneTableBelowLow(in: db) }) else { break }
                Thread.sleep(forTimeInterval: Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            }
            return dropped
        } catch {
            changeLog.forget()
            throw Self.map(error)
        }
    }

    public func onCommit(_ listener: @escaping @Sendable ([Change]) -> Void) {
        batcher.listener.set(listener)
    }

    public func statistics() -> [StoreStatistic] {
        [
            StoreStatistic(
                "commits", help: "Transactions committed by the store's writer", value: batcher.commits.load(ordering: .relaxed)),
            StoreStatistic(
                "writes", help: "Writes committed (writes / commits is the mean group-commit batch)",
                value: batcher.writes.load(ordering: .relaxed)),
            StoreStatistic(
                "checkpoints_background", help: "WAL checkpoints made beside the writer",
                value: checkpointer.background.load(ordering: .relaxed)),
            StoreStatistic(
                "checkpoints_inline", help: "WAL checkpoints made by a commit, the WAL being long",
                value: checkpointer.inline.load(ordering: .relaxed)),
        ]
    }

    /// One writer, and the head read in the same snapshot as the documents.
    public var headCoversAcknowledgedWrites: Bool { true }

    public func health() -> StoreHealth {
        do {
            _ = try reading { db in try Int.fetchOne(db, sql: "SELECT 1") }
            return StoreHealth(ok: true, detail: description)
        } catch {
            return StoreHealth(ok: false, detail: "\(error)")
        }
    }

    /// Copies the whole WAL into the database file and empties it. Fails (busy) while a
    /// reader still holds an old snapshot: tests use it to see that none is left behind.
    func checkpointTruncating() throws(StoreError) {
        do {
            try pool.writeWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        } catch {
            throw Self.map(error)
        }
    }

    /// The SQL a list runs, as `EXPLAIN QUERY PLAN` sees it: for tests and diagnosis.
    public func queryPlan(_ collection: String, query: ListQuery) throws(StoreError) -> [String] {
        let (_, whereClause, select) = try listStatement(collection, query)
        return try reading { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + select, arguments: StatementArguments(values: whereClause.arguments))
                .map { $0["detail"] as String }
        }
    }

    /// The count of a list's filter at `head`: carried from one counted at an earlier
    /// head when the change log can tell the difference (`CountDelta`), counted
    /// otherwise.
    private func count(
        _ table: String, _ collection: String, _ filter: Filter, _ clause: SQLFragment, from known: CountCache.Counted?,
        head: Int64, in db: Database
    ) throws -> Int {
        if let known,
            let delta = try CountDelta.between(
                known.head, head, counted: known.value, collection: collection, filter: filter, where: clause, in: db)
        {
            return known.value + delta
        }
        return try Int.fetchOne(
            db.cachedStatement(sql: "SELECT count(*) FROM \(table) WHERE \(clause.sql)"),
            arguments: StatementArguments(values: clause.arguments)) ?? 0
    }

    /// The table, the WHERE clause and the `SELECT … ORDER BY` a list runs (without
    /// its LIMIT and OFFSET), so that `queryPlan` explains exactly what `list` does.
    private func listStatement(_ collection: String, _ query: ListQuery) throws(StoreError) -> (String, SQLFragment, String) {
        let table = try tableName(collection)
        let whereClause = try SQLiteFilter(layouts.get(collection)).translate(query.filter)
        return (table, whereClause, "SELECT id, v, body FROM \(table) WHERE \(whereClause.sql) \(SQLiteFilter.orderBy(query.sort))")
    }

    func tableName(_ collection: String) throws(StoreError) -> String {
        guard layouts.contains(collection) else { throw .unknownCollection(collection) }
        return Self.table(collection)
    }

    static func table(_ collection: String) -> String { "\"doc." + collection + "\"" }

    /// Reads in one consistent snapshot: this thread's open read transaction when
    /// nothing was committed since it began (see `ThreadReaders`).
    private func reading<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do {
            if let result = try readers.read(body) { return result }
            return try pool.read(body)
        } catch {
            throw Self.map(error)
        }
    }

    /// The same, with the change log's head in that snapshot (read once per snapshot) and
    /// the connection's document statements (prepared afresh on the pool's connections).
    /// With a `budget`, the body's statements on a server thread's connection stop once
    /// it has passed (`StoreError.overBudget`).
    private func readingAtHead<T>(
        within budget: Duration? = nil, _ body: (Database, Int64, HotStatements) throws -> T
    ) throws(StoreError) -> T {
        do {
            if let result = try readers.read(head: ChangeLogTables.head, within: budget, body) { return result }
            return try pool.read { db in try body(db, try ChangeLogTables.head(db), HotStatements()) }
        } catch {
            throw Self.map(error)
        }
    }

    static func map(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.resultCode {
            case .SQLITE_INTERRUPT:
                return .overBudget  // only a read's deadline interrupts (`ReadDeadline`)
            case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_CANTOPEN, .SQLITE_READONLY:
                return .unavailable(error.message ?? "\(error.resultCode)")
            default:
                return .internalError("\(error)")
            }
        }
        return .internalError("\(error)")
    }
}
