import DocumentStore
import Foundation
import MongoDoubleSupport
import Testing

/// A list given a time budget (`ServiceOptions.listBudget`, for lists on a server
/// thread) is stopped with `.overBudget` once it runs past it, having changed nothing,
/// so that the service can run it again elsewhere; without a budget, or with one it
/// keeps to, the same list answers in full. SQLite stops the statement itself; MongoDB
/// is sent the budget as `maxTimeMS`.
@Suite struct ListBudgetConformanceTests {
    /// Imported documents whose titles run against their creation order, so that a list
    /// sorted by title (no index) reads and orders them all. The MongoDB test double
    /// sorts 300 in well over a millisecond (the least `maxTimeMS` there is), and more
    /// would hold up the tests that share it; a real server is given more.
    static func storeWithManyDocuments(_ kind: StoreKind) throws -> (store: any DocumentStore, count: Int) {
        let count = kind == .mongodb && MongoDouble.realServer != nil ? 20_000 : 300
        let store = try StoreFixture(kind).store
        let transfer = try #require(store as? any BulkTransfer)
        _ = try transfer.importDocuments { insert in
            for i in 0..<count {
                let title = "t" + String(2_000_000 - i)  // as many digits for every i
                let json = JSON.object(JSONObject([("id", .string("d\(i)")), ("title", .string(title)), ("_v", .int(1))]))
                try insert("todos", StoredDocument(id: "d\(i)", version: 1, json: json.serialized))
            }
        }
        return (store, count)
    }

    static let byTitle = ListQuery(sort: [SortKey(FieldPath("title")!)], limit: 3)

    @Test(arguments: StoreKind.allCases) func aListPastItsBudgetIsStoppedAndTheNextRunsWhole(_ kind: StoreKind) throws {
        let (store, count) = try Self.storeWithManyDocuments(kind)
        let error = #expect(throws: StoreError.self) { try store.list("todos", query: Self.byTitle, within: .nanoseconds(1)) }
        guard case .overBudget? = error else { throw Failure("expected overBudget, got \(String(describing: error))") }
        let last = (1...3).map { "d\(count - $0)" }
        let page = try store.list("todos", query: Self.byTitle, within: .seconds(60))
        #expect(page.documents.map(\.id) == last)
        #expect(page.total == count)
        #expect(try store.list("todos", query: Self.byTitle).documents.map(\.id) == last)
    }

    @Test(arguments: StoreKind.allCases) func aZeroBudgetRefusesBeforeReading(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        try insert(store, #"{"id":"a","title":"x"}"#)
        let error = #expect(throws: StoreError.self) { try store.list("todos", query: ListQuery(), within: .zero) }
        guard case .overBudget? = error else { throw Failure("expected overBudget, got \(String(describing: error))") }
        #expect(try store.list("todos", query: ListQuery(), within: nil).documents.map(\.id) == ["a"])
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
