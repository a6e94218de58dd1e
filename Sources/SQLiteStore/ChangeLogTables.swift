import GRDB
import Synchronization

/// The change log, kept in generations: tables `changes_0`, `changes_1`, … each holding
/// one range of sequences, behind the view `changes` that every read uses.
///
/// Retention is a low-water mark (`log_state.low`): the view shows no entry below it, so
/// pruning is exact the moment the mark moves. The entries below it stay on disk until
/// their whole table is past the mark, and the table is then emptied in one `DELETE`
/// without `WHERE`, which frees its pages without visiting its rows. Deleting the same
/// entries as a range rewrote every page they were on: as many WAL frames as inserting
/// them had written, on the one writer every write waits for (bench/NOTES.md#prune).
///
/// Sequences are assigned here, one after another from `log_state.head`, so every
/// sequence from `low` to `head` is in the log. The state below is read from the file
/// by the first write and kept by the writer; it is used only inside the pool's writer
/// access, where GRDB runs one closure at a time (the lock only makes that visible to
/// Swift). A transaction that fails forgets it, and the next write reads it again.
final class ChangeLogTables: Sendable {
    /// The entries a table takes before writes move to the next one: a quarter of what
    /// retention keeps, so about six tables cycle. Set by each prune from its `keep`.
    let generationSize = Atomic<Int>(25_000)
    /// Past this many tables a full generation keeps growing until a prune empties one.
    static let maxTables = 16

    private struct State {
        var head: Int64 = 0
        var low: Int64 = 1
        /// The sequences each table holds, by number; nil when it is empty.
        var tables: [ClosedRange<Int64>?] = []
        var current: Int?
    }

    private let state = Mutex<State?>(nil)

    static func table(_ number: Int) -> String { number < names.count ? names[number] : "changes_\(number)" }
    private static let names = (0..<maxTables).map { "changes_\($0)" }

    static func createTable(_ number: Int, in db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE \(table(number)) (
                    seq INTEGER PRIMARY KEY,
                    collection TEXT NOT NULL,
                    doc_id TEXT NOT NULL,
                    op TEXT NOT NULL,
                    v INTEGER NOT NULL,
                    doc TEXT,
                    prev TEXT,
                    origin TEXT,
                    at INTEGER NOT NULL
                )
                """)
    }

    /// The view of every table, each filtered by the low-water mark. SQLite pushes a
    /// query's `seq` range into each arm and merges the arms in order; the mark is
    /// written `+seq` so that it is not an index bound: given two lower bounds, SQLite
    /// searched from the mark, and every read of the newest entries walked the whole
    /// retained log (a list's count carried forward took 23 ms instead of 0.09).
    static func createView(tables count: Int, in db: Database) throws {
        let arms = (0..<count).map { "SELECT * FROM \(table($0)) WHERE +seq >= (SELECT low FROM log_state)" }
        try db.execute(sql: "DROP VIEW IF EXISTS changes")
        try db.execute(sql: "CREATE VIEW changes AS " + arms.joined(separator: " UNION ALL "))
    }

    /// The newest sequence written (0 before the first write), in any snapshot.
    static func head(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db.cachedStatement(sql: "SELECT head FROM log_state")) ?? 0
    }

    /// The head of a log written before the generations: one `changes` table whose
    /// sequences came from `AUTOINCREMENT`.
    static func singleTableHead(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = 'changes'") ?? 0
    }

    /// The oldest sequence still in the log, nil when it is empty.
    static func oldest(_ db: Database) throws -> Int64? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT low, head FROM log_state")) else { return nil }
        let (low, head): (Int64, Int64) = (row[0], row[1])
        return low <= head ? low : nil
    }

    /// The sequence of the next change of this transaction, and the table to log it in.
    func next(in db: Database) throws -> (sequence: Int64, table: String) {
        try withState(db) { s in
            let sequence = s.head + 1
            if let current = s.current, let range = s.tables[current],
                sequence - range.lowerBound < Int64(generationSize.load(ordering: .relaxed))
            {
                s.tables[current] = range.lowerBound...sequence
            } else if let empty = try emptyTable(&s, db) {
                s.current = empty
                s.tables[empty] = sequence...sequence
            } else if let current = s.current, let range = s.tables[current] {
                s.tables[current] = range.lowerBound...sequence  // every table is in use: grow this one
            } else {
                throw DatabaseError(resultCode: .SQLITE_INTERNAL, message: "the change log has no table to write to")
            }
            s.head = sequence
            return (sequence, Self.table(s.current!))
        }
    }

    /// Ends a transaction's changes: the head is stored once, after its last entry.
    func finish(in db: Database) throws {
        try withState(db) { s in
            try db.cachedStatement(sql: "UPDATE log_state SET head = ?").execute(arguments: [s.head])
        }
    }

    /// A transaction that used the state failed: read it again from the file (at any
    /// moment: `load` finds the head from the entries themselves).
    func forget() {
        state.withLock { $0 = nil }
    }

    /// Moves the low-water mark past all but the newest `keep` entries and up to
    /// `young` (the oldest entry young enough to keep), never down, never past the head
    /// plus one. Returns how many entries left the log: the view shows them no more.
    func prune(keepingNewest keep: Int, from young: Int64, in db: Database) throws -> Int {
        try withState(db) { s in
            let newLow = min(max(s.low, young, s.head - Int64(keep) + 1), s.head + 1)
            let dropped = Int(newLow - s.low)
            if dropped > 0 {
                try db.execute(sql: "UPDATE log_state SET low = ?", arguments: [newLow])
                s.low = newLow
            }
            return dropped
        }
    }

    /// Empties one table wholly below the low-water mark, if there is one (one at a
    /// time: each takes the writer for as long as freeing its pages takes).
    func emptyOneTableBelowLow(in db: Database) throws -> Bool {
        try withState(db) { s in
            guard let number = s.tables.indices.first(where: { s.tables[$0].map { $0.upperBound < s.low } ?? false }) else {
                return false
            }
            try db.execute(sql: "DELETE FROM \(Self.table(number))")
            s.tables[number] = nil
            if s.current == number { s.current = nil }
            return true
        }
    }

    /// An empty table, made if there is none and fewer than `maxTables` exist.
    private func emptyTable(_ s: inout State, _ db: Database) throws -> Int? {
        if let empty = s.tables.firstIndex(where: { $0 == nil }) { return empty }
        guard s.tables.count < Self.maxTables else { return nil }
        let number = s.tables.count
        try Self.createTable(number, in: db)
        try Self.createView(tables: number + 1, in: db)
        s.tables.append(nil)
        return number
    }

    private func withState<T>(_ db: Database, _ body: (inout State) throws -> T) throws -> T {
        db.assertSerializedAccess()
        return try state.withLock { stored in
            var s = try stored ?? Self.load(db)
            do {
                let result = try body(&s)
                stored = s
                return result
            } catch {
                stored = nil
                throw error
            }
        }
    }

    private static func load(_ db: Database) throws -> State {
        var s = State()
        if let row = try Row.fetchOne(db, sql: "SELECT low, head FROM log_state") {
            (s.low, s.head) = (row[0], row[1])
        }
        let names = try String.fetchAll(
            db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'changes_[0-9]*'")
        let count = names.compactMap { Int($0.dropFirst("changes_".count)) }.max().map { $0 + 1 } ?? 0
        for number in 0..<count {
            let row = try Row.fetchOne(db, sql: "SELECT min(seq), max(seq) FROM \(table(number))")
            if let first: Int64 = row?[0], let last: Int64 = row?[1] {
                s.tables.append(first...last)
            } else {
                s.tables.append(nil)
            }
        }
        // The head is stored at the end of each transaction's changes: one forgotten
        // in the middle of a transaction is read back from its entries.
        if let newest = s.tables.indices.max(by: { (s.tables[$0]?.upperBound ?? 0) < (s.tables[$1]?.upperBound ?? 0) }),
            let range = s.tables[newest], range.upperBound >= s.head
        {
            s.head = range.upperBound
            s.current = newest
        }
        return s
    }
}
