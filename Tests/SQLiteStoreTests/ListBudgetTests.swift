import Dispatch
import DocumentStore
import Foundation
import SQLiteStore
import Testing

/// SQLite's part of a list's time budget (the rest, for every store, is in
/// ListBudgetConformanceTests): the deadline lives on the thread's read connection
/// (SQLite's progress handler), and must not outlive its list.
@Suite struct ListBudgetTests {
    /// 3,000 documents whose titles run against their ids, so that a list sorted by title
    /// (not indexed) reads and orders them all.
    static func storeWithManyDocuments() throws -> SQLiteStore {
        let store = try makeStore()
        DispatchQueue.concurrentPerform(iterations: 3000) { i in
            _ = write(store, "d\(i)") { _ in
                .insert(JSONObject([("id", .string("d\(i)")), ("title", .string("t\(20000 - i)"))]), version: 1)
            }
        }
        return store
    }

    static let byTitle = ListQuery(sort: [SortKey(FieldPath("title")!)], limit: 3)

    /// The budget covers one list: a later document read on the same connection, with
    /// no budget, is not stopped by the deadline the list left behind.
    @Test func aBudgetEndsWithItsList() throws {
        let store = try Self.storeWithManyDocuments()
        // A lookup by id: too few steps for SQLite to look at the clock even once.
        let one = ListQuery(filter: .compare(FieldPath("id")!, .eq, .string("d1")))
        #expect(try store.list("todos", query: one, within: .milliseconds(50)).documents.map(\.id) == ["d1"])
        Thread.sleep(forTimeInterval: 0.1)
        #expect(try store.list("todos", query: Self.byTitle).total == 3000)
    }
}
