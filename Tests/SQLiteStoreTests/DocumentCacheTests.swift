import DocumentStore
import Foundation
@testable import SQLiteStore
import Testing

/// Documents read by id are kept until a commit changes them: what a reader gets back
/// is never older than the last acknowledged write, even when the read raced the write.
@Suite struct DocumentCacheTests {
    func document(_ id: String, _ version: Int64) -> StoredDocument {
        StoredDocument(id: id, version: version, json: #"{"id":"\#(id)","_v":\#(version)}"#)
    }

    func change(_ id: String, _ sequence: Int64) -> Change {
        Change(
            sequence: sequence, collection: "todos", id: id, operation: .update, version: 2, document: "{}", previous: nil,
            origin: nil, time: 0)
    }

    @Test func aReadAfterAWriteGetsTheWrittenDocument() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","title":"one","_v":1}"#)
        #expect(try store.read("todos", id: "a").document?.version == 1)
        #expect(store.documents.count == 1)
        _ = try write(store, "a") { _ in
            .update(JSONObject([("id", .string("a")), ("title", .string("two")), ("_v", .int(2))]), version: 2)
        }
        .get()
        let read = try store.read("todos", id: "a")
        #expect(read.document?.version == 2)
        #expect(read.document?.json.contains("two") == true)
        _ = try write(store, "a") { _ in .delete(version: 3) }.get()
        #expect(try store.read("todos", id: "a").document == nil)
    }

    @Test func aCachedDocumentCarriesTheCursorOfTheLatestCommit() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","_v":1}"#)
        let first = try store.read("todos", id: "a")
        try insert(store, #"{"id":"b","_v":1}"#)  // another document: "a" stays cached
        let again = try store.read("todos", id: "a")
        #expect(again.document == first.document)
        #expect(again.cursor.sequence == first.cursor.sequence + 1)
        #expect(again.cursor == (try store.head()))
    }

    /// Writers each rewrite their own document and read it back at once, while readers
    /// keep reading every document (so reads race commits to fill the cache): a writer
    /// must always read back the version it was just told was stored.
    @Test func readsRacingWritesNeverBringBackAnOlderVersion() async throws {
        let store = try makeStore()
        let ids = (0..<4).map { "w\($0)" }
        for id in ids { try insert(store, #"{"id":"\#(id)","_v":1}"#) }
        let stale = await withTaskGroup(of: Int.self) { group in
            for id in ids {
                group.addTask {
                    var stale = 0
                    for version in Int64(2)...300 {
                        let body = JSONObject([("id", .string(id)), ("_v", .int(version))])
                        guard (try? write(store, id) { _ in .update(body, version: version) }.get()) != nil else { return -1 }
                        if (try? store.read("todos", id: id).document?.version) != version { stale += 1 }
                    }
                    return stale
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for i in 0..<4000 { _ = try? store.read("todos", id: ids[i % ids.count]) }
                    return 0
                }
            }
            return await group.reduce(0, +)
        }
        #expect(stale == 0)
    }

    @Test func aDocumentReadBeforeItsLastChangeIsNotKept() {
        let cache = DocumentCache(maxCost: 1 << 20)
        cache.committed([change("a", 5)])
        cache.store("todos", document("a", 1), readAt: 4)  // read before the commit at 5
        #expect(cache.lookup("todos", "a") == nil)
        cache.store("todos", document("a", 2), readAt: 5)
        #expect(cache.lookup("todos", "a")?.document.version == 2)
        cache.committed([change("a", 6)])
        #expect(cache.lookup("todos", "a") == nil)
    }

    @Test func aReadFromBeforeAnyCommitSeenIsNotKept() {
        let cache = DocumentCache(maxCost: 1 << 20)
        cache.committed([change("b", 7)])  // another document
        cache.store("todos", document("a", 1), readAt: 6)
        #expect(cache.lookup("todos", "a") == nil)
        cache.store("todos", document("a", 1), readAt: 7)
        #expect(cache.lookup("todos", "a")?.head == 7)
    }

    @Test func theCacheStaysWithinItsBytes() {
        let cache = DocumentCache(maxCost: 64 * 1024)
        for i in 0..<5000 { cache.store("todos", document("id\(i)", 1), readAt: 1) }
        let cost = cache.count * (document("id1000", 1).json.utf8.count + DocumentCache.entryOverhead)
        #expect(cache.count > 0)
        #expect(cost <= 64 * 1024)
    }

    /// Eviction goes oldest first: the newest documents stay, whatever their place in
    /// the dictionary's buckets (evicting in bucket order packed the rest into one run).
    @Test func theOldestStoredGoFirst() {
        let each = document("id00", 1).json.utf8.count + DocumentCache.entryOverhead
        let cache = DocumentCache(maxCost: 16 * each)
        for i in 0..<40 { cache.store("todos", document(String(format: "id%02d", i), 1), readAt: 1) }
        #expect(cache.count <= 16)
        #expect(cache.lookup("todos", "id39") != nil)
        #expect(cache.lookup("todos", "id38") != nil)
        #expect(cache.lookup("todos", "id00") == nil)
        #expect(cache.lookup("todos", "id20") == nil)
        // Invalidated and stored again: counted once, still within the bytes.
        for round in 0..<100 {
            cache.committed([change("id39", Int64(2 + round))])
            cache.store("todos", document("id39", 1), readAt: Int64(2 + round))
        }
        #expect(cache.count <= 16)
        #expect(cache.lookup("todos", "id39") != nil)
    }

    @Test func aZeroSizeKeepsNothing() throws {
        let cache = DocumentCache(maxCost: 0)
        cache.store("todos", document("a", 1), readAt: 1)
        #expect(cache.lookup("todos", "a") == nil)
    }
}
