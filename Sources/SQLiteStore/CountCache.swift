import DocumentStore
import GRDB
import Synchronization

/// A list's filter in a collection table, as SQLite runs it.
struct CountKey: Hashable, Sendable {
    let table: String
    let sql: String
    let arguments: [DatabaseValue]

    // String arguments by their bytes, as SQLite compares them: `DatabaseValue` takes
    // Swift's `String` equality, which equates canonically equivalent text, and two such
    // filters would share one count.
    static func == (a: CountKey, b: CountKey) -> Bool {
        a.table == b.table && a.sql == b.sql && a.arguments.count == b.arguments.count
            && zip(a.arguments, b.arguments).allSatisfy { x, y in
                if case .string(let s) = x.storage, case .string(let t) = y.storage { return s.sameCodeUnits(as: t) }
                return x == y
            }
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(table)
        hasher.combine(sql)
        for argument in arguments {
            if case .string(let s) = argument.storage { hasher.combine(ExactText(s)) } else { hasher.combine(argument) }
        }
    }
}

/// Remembers `count(*)` of recent filters, each at the last few heads it was counted
/// at. Counting a filter that matches many documents scans all of them; the page it
/// belongs to reads only a few. Paging through a list, or many pages showing the same
/// list, then count once; and a count from an earlier head is carried to a later one by
/// `CountDelta` instead of counted again, so lists under a stream of writes stay cheap.
/// A few heads, not one: readers on different threads hold snapshots a few writes
/// apart, and a count stored at a later head is no use to the one behind (its snapshot
/// cannot see the writes in between).
final class CountCache: Sendable {
    struct Counted: Equatable {
        let head: Int64
        let value: Int
    }

    /// Filters remembered; past this, all are forgotten (a burst of distinct filters
    /// then costs what it would without a cache).
    let capacity: Int
    static let headsPerFilter = 8
    /// Oldest first.
    private let entries = Mutex<[CountKey: [Counted]]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The count stored at the newest head not after `head`.
    func latest(_ key: CountKey, notAfter head: Int64) -> Counted? {
        entries.withLock { $0[key]?.last { $0.head <= head } }
    }

    func store(_ key: CountKey, head: Int64, value: Int) {
        entries.withLock { entries in
            if entries[key] == nil, entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            var counted = entries[key] ?? []
            guard !counted.contains(where: { $0.head == head }) else { return }
            counted.insert(Counted(head: head, value: value), at: counted.firstIndex { $0.head > head } ?? counted.endIndex)
            if counted.count > Self.headsPerFilter { counted.removeFirst() }
            entries[key] = counted
        }
    }
}

/// How many more documents of a collection match a WHERE clause at one head than at an
/// earlier one, read from the change log: those the writes in between left matching,
/// less those that matched before them. The clause is the list's own, run on the logged
/// JSON (`doc` as it was written, `prev` as it was before), so the answer is SQLite's,
/// with no second matcher that would have to agree with it.
enum CountDelta {
    /// How many changes may be read instead of counting again: counting reads at least
    /// the `counted` documents that match (all of them without an index), a change costs
    /// a few of those (its JSON before and after), and a few thousand always pay.
    static func maxChanges(counted: Int) -> Int64 {
        max(4096, Int64(counted) / 4)
    }

    /// nil when it cannot be told: a filter on `_v` (the log keeps only the version a
    /// write left), too many changes, or changes gone from the log (pruned).
    static func between(
        _ earlier: Int64, _ later: Int64, counted: Int, collection: String, filter: Filter, where clause: SQLFragment,
        in db: Database
    ) throws -> Int? {
        guard earlier < later, later - earlier <= maxChanges(counted: counted), !filter.mentions(versionPath) else { return nil }
        let range: [DatabaseValue] = [earlier.databaseValue, later.databaseValue, collection.databaseValue]
        let side = { (column: String) in
            "(SELECT count(*) FROM (SELECT doc_id AS id, v, \(column) AS body FROM changes"
                + " WHERE seq > ? AND seq <= ? AND collection = ? AND \(column) IS NOT NULL) WHERE \(clause.sql))"
        }
        let sql = "SELECT (SELECT count(*) FROM changes WHERE seq > ? AND seq <= ?), \(side("doc")), \(side("prev"))"
        let arguments = [range[0], range[1]] + range + clause.arguments + range + clause.arguments
        guard let row = try Row.fetchOne(db.cachedStatement(sql: sql), arguments: StatementArguments(values: arguments)),
            Int64(row[0] as Int) == later - earlier
        else { return nil }
        return (row[1] as Int) - (row[2] as Int)
    }

    private static let versionPath = FieldPath("_v")!
}
