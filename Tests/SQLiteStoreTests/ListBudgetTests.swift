import Dispatch
import DocumentStore
import Foundation
import SQLiteStore
import Testing

/// A list on a server thread may be given a time budget (`ServiceOptions.listBudget`):
/// past it the store stops the query, so that the service can run it elsewhere.
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

    @Test func aListPastItsBudgetIsStoppedAndTheNextRunsWhole() throws {
        let store = try Self.storeWithManyDocuments()
        let error = #expect(throws: StoreError.self) { try store.list("todos", query: Self.byTitle, within: .nanoseconds(1)) }
        guard case .overBudget? = error else { throw Failure("expected overBudget, got \(String(describing: error))") }
        // The same thread's connection answers the next list in full.
        let page = try store.list("todos", query: Self.byTitle, within: .seconds(60))
        #expect(page.documents.map(\.id) == ["d2999", "d2998", "d2997"])
        #expect(page.total == 3000)
        #expect(try store.list("todos", query: Self.byTitle).documents.map(\.id) == page.documents.map(\.id))
    }

    @Test func aZeroBudgetRefusesBeforeReading() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","title":"x"}"#)
        let error = #expect(throws: StoreError.self) { try store.list("todos", query: ListQuery(), within: .zero) }
        guard case .overBudget? = error else { throw Failure("expected overBudget, got \(String(describing: error))") }
        #expect(try store.list("todos", query: ListQuery(), within: nil).documents.map(\.id) == ["a"])
    }

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

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
