import GRDB
@testable import SQLiteStore
import Testing

/// Counts are kept at a few heads per filter, so that a reader whose snapshot is a few
/// writes behind another's still finds one it can carry forward.
@Suite struct CountCacheTests {
    let open = CountKey(table: "\"doc.todos\"", sql: "done = 0", arguments: [])

    @Test func aReaderBehindTheNewestCountGetsTheOneBeforeItsHead() {
        let cache = CountCache(capacity: 10)
        cache.store(open, head: 10, value: 100)
        cache.store(open, head: 15, value: 104)
        #expect(cache.latest(open, notAfter: 12) == .init(head: 10, value: 100))
        #expect(cache.latest(open, notAfter: 15) == .init(head: 15, value: 104))
        #expect(cache.latest(open, notAfter: 99) == .init(head: 15, value: 104))
        #expect(cache.latest(open, notAfter: 9) == nil)
    }

    @Test func keepsTheNewestFewHeadsInOrderWhateverOrderTheyCome() {
        let cache = CountCache(capacity: 10)
        for head in [5, 1, 4, 2, 3, 10, 8, 9, 7, 6] as [Int64] { cache.store(open, head: head, value: Int(head) * 10) }
        #expect(cache.latest(open, notAfter: 100) == .init(head: 10, value: 100))
        #expect(cache.latest(open, notAfter: 3) == .init(head: 3, value: 30))
        #expect(cache.latest(open, notAfter: 2) == nil)  // 1 and 2 went: eight heads are kept
    }

    @Test func tooManyFiltersAreAllForgotten() {
        let cache = CountCache(capacity: 2)
        let keys = (0..<3).map { CountKey(table: "t", sql: "x = ?", arguments: [$0.databaseValue]) }
        cache.store(keys[0], head: 1, value: 1)
        cache.store(keys[1], head: 1, value: 2)
        cache.store(keys[2], head: 1, value: 3)
        #expect(cache.latest(keys[0], notAfter: 1) == nil)
        #expect(cache.latest(keys[2], notAfter: 1) == .init(head: 1, value: 3))
    }
}
