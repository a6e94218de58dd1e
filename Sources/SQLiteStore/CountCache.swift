import DocumentStore
import GRDB

/// Remembers `count(*)` of recent filters while no write happens. Counting a filter
/// that matches many documents scans all of them; the page it belongs to reads only a
/// few. Paging through a list, or many pages showing the same list, then count once.
struct CountKey: Hashable, Sendable {
    let table: String
    let sql: String
    let arguments: [DatabaseValue]
}

typealias CountCache = HeadCache<CountKey, Int>
