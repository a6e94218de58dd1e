import GRDB
import Synchronization

/// Remembers `count(*)` of recent filters, valid while the change log's head is the
/// same as when it was counted (no write since). Counting a filter that matches many
/// documents scans all of them; the page it belongs to reads only a few. Paging through
/// a list, or many pages showing the same list, then count once.
final class CountCache: Sendable {
    struct Key: Hashable, Sendable {
        let table: String
        let sql: String
        let arguments: [DatabaseValue]
    }

    private struct Entry {
        let head: Int64
        let count: Int
    }

    private let entries = Mutex<[Key: Entry]>([:])
    static let capacity = 512

    func lookup(_ key: Key, head: Int64) -> Int? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.head == head else { return nil }
            return entry.count
        }
    }

    func store(_ key: Key, head: Int64, count: Int) {
        entries.withLock { entries in
            if entries.count >= Self.capacity {
                // Entries from before the newest head can never be used again.
                entries = entries.filter { $0.value.head == head }
                if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[key] = Entry(head: head, count: count)
        }
    }
}
