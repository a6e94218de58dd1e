import DocumentStore
import GRDB

/// Remembers `count(*)` of recent filters while no write happens. Counting a filter
/// that matches many documents scans all of them; the page it belongs to reads only a
/// few. Paging through a list, or many pages showing the same list, then count once.
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

typealias CountCache = HeadCache<CountKey, Int>
