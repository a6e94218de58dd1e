import DocumentStore
import Testing

@Suite struct HeadCacheTests {
    @Test func answersOnlyAtTheHeadItWasStoredAt() {
        let cache = HeadCache<String, Int>(capacity: 4)
        cache.store("a", head: 7, value: 1)
        #expect(cache.lookup("a", head: 7) == 1)
        #expect(cache.lookup("a", head: 8) == nil)  // a write happened since
        #expect(cache.lookup("b", head: 7) == nil)
        cache.store("a", head: 8, value: 2)
        #expect(cache.lookup("a", head: 8) == 2)
        #expect(cache.lookup("a", head: 7) == nil)
    }

    @Test func staysWithinItsEntriesAndCost() {
        let cache = HeadCache<Int, String>(capacity: 3, maxCost: 100)
        for key in 0..<3 { cache.store(key, head: 1, value: "v\(key)", cost: 10) }
        // Full by entries: the old head's entries go first, then everything.
        cache.store(10, head: 2, value: "new", cost: 10)
        #expect(cache.lookup(10, head: 2) == "new")
        #expect((0..<3).allSatisfy { cache.lookup($0, head: 1) == nil })
        // Full by cost.
        cache.store(11, head: 2, value: "big", cost: 80)
        cache.store(12, head: 2, value: "more", cost: 20)
        #expect(cache.lookup(12, head: 2) == "more")
        #expect(cache.lookup(11, head: 2) == nil)
        // Larger than the whole budget: not kept at all.
        cache.store(13, head: 2, value: "huge", cost: 101)
        #expect(cache.lookup(13, head: 2) == nil)
        #expect(cache.lookup(12, head: 2) == "more")
    }
}
