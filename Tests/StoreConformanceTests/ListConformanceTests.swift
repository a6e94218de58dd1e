import DocumentStore
import Foundation
import Testing

/// Lists: the filter tree with MongoDB's semantics (arrays, missing fields, types),
/// sorts with creation order breaking ties, paging and totals — the same results in
/// the same order on every store.
@Suite struct ListConformanceTests {
    static let documents = [
        #"{"id":"a","title":"Milk","done":false,"priority":1,"tags":["x","y"],"owner":{"name":"ann"}}"#,
        #"{"id":"b","title":"Bread","done":true,"priority":3,"tags":["y"],"owner":{"name":"bob"}}"#,
        #"{"id":"c","title":"Eggs","done":false,"priority":"high"}"#,
        #"{"id":"d","title":"Jam","done":false,"priority":2.5,"tags":"x"}"#,
        #"{"id":"e","title":"One","done":true,"priority":1}"#,
    ]

    static func filled(_ kind: StoreKind) throws -> any DocumentStore {
        let store = try StoreFixture(kind).store
        for document in documents { try insert(store, document) }
        return store
    }

    func p(_ s: String) -> FieldPath { FieldPath(s)! }

    /// Each filter and the ids it must give, in order.
    var cases: [(Filter, [SortKey], [String])] {
        [
            (.all, [], ["a", "b", "c", "d", "e"]),
            (.compare(p("done"), .eq, .bool(true)), [], ["b", "e"]),
            (.compare(p("priority"), .eq, .int(1)), [], ["a", "e"]),
            (.compare(p("priority"), .eq, .double(1.0)), [], ["a", "e"]),
            (.compare(p("priority"), .eq, .bool(true)), [], []),
            (.compare(p("tags"), .eq, .string("x")), [], ["a", "d"]),
            (.compare(p("tags"), .eq, .array([.string("y")])), [], ["b"]),
            (.compare(p("priority"), .gte, .int(2)), [], ["b", "d"]),
            (.compare(p("priority"), .lt, .int(3)), [], ["a", "d", "e"]),
            (.compare(p("priority"), .gt, .string("a")), [], ["c"]),
            (.compare(p("title"), .lte, .string("Jam")), [], ["b", "c", "d"]),
            (.compare(p("tags"), .ne, .string("x")), [], ["b", "c", "e"]),
            (.notIn(p("owner.name"), [.string("ann")]), [], ["b", "c", "d", "e"]),
            (.isIn(p("title"), [.string("Jam"), .string("Milk")]), [], ["a", "d"]),
            (.isIn(p("priority"), [.int(3), .string("high")]), [], ["b", "c"]),
            (.exists(p("tags"), false), [], ["c", "e"]),
            (.exists(p("owner.name"), true), [], ["a", "b"]),
            (.compare(p("owner"), .eq, .null), [], ["c", "d", "e"]),
            (.compare(p("owner.name"), .eq, .string("bob")), [], ["b"]),
            (.or([.compare(p("id"), .eq, .string("c")), .compare(p("owner.name"), .eq, .string("bob"))]), [], ["b", "c"]),
            (.and([.compare(p("done"), .eq, .bool(false)), .exists(p("owner"), true)]), [], ["a"]),
            (.compare(p("id"), .gte, .string("c")), [], ["c", "d", "e"]),
            (.all, [SortKey(p("done"), descending: true)], ["b", "e", "a", "c", "d"]),
            (.all, [SortKey(p("title"))], ["b", "c", "d", "a", "e"]),
            (.all, [SortKey(p("id"), descending: true)], ["e", "d", "c", "b", "a"]),
            (.compare(p("done"), .eq, .bool(false)), [SortKey(p("title"), descending: true)], ["a", "d", "c"]),
            (.all, [SortKey(p("done")), SortKey(p("title"), descending: true)], ["a", "d", "c", "e", "b"]),
        ]
    }

    @Test(arguments: StoreKind.allCases) func filtersAndSortsGiveTheSameResults(_ kind: StoreKind) throws {
        let store = try Self.filled(kind)
        for (filter, sort, expected) in cases {
            let ids = try store.list("todos", query: ListQuery(filter: filter, sort: sort)).documents.map(\.id)
            #expect(ids == expected, "\(filter) sorted by \(sort)")
        }
    }

    @Test(arguments: StoreKind.allCases) func documentsComeInCreationOrderAfterUpdates(_ kind: StoreKind) throws {
        let store = try Self.filled(kind)
        try update(store, "a", [("title", .string("Oat milk"))])
        _ = try commit(store, "c") { current in .delete(version: current!.version + 1) }.get()
        try insert(store, #"{"id":"c","title":"Eggs again"}"#)
        #expect(try store.list("todos", query: ListQuery()).documents.map(\.id) == ["a", "b", "d", "e", "c"])
    }

    @Test(arguments: StoreKind.allCases) func pagesCountTheirTotal(_ kind: StoreKind) throws {
        let store = try Self.filled(kind)
        let page = try store.list("todos", query: ListQuery(limit: 2, skip: 1))
        #expect(page.documents.map(\.id) == ["b", "c"])
        #expect(page.total == 5)
        let filtered = try store.list("todos", query: ListQuery(filter: .compare(p("done"), .eq, .bool(false)), limit: 1))
        #expect(filtered.documents.map(\.id) == ["a"])
        #expect(filtered.total == 3)
        let whole = try store.list("todos", query: ListQuery(limit: 5))
        #expect(whole.total == nil)
        let none = try store.list("todos", query: ListQuery(limit: 0))
        #expect(none.documents.isEmpty)
        #expect(none.total == 5)
        let past = try store.list("todos", query: ListQuery(limit: 10, skip: 10))
        #expect(past.documents.isEmpty)
        #expect(past.total == 5)
    }

    @Test(arguments: StoreKind.allCases) func listCursorReflectsTheSnapshot(_ kind: StoreKind) throws {
        let store = try Self.filled(kind)
        let page = try store.list("todos", query: ListQuery())
        #expect(page.cursor == (try store.head()))
        let created = try insert(store, #"{"id":"f"}"#)
        let next = try store.list("todos", query: ListQuery())
        #expect(next.cursor.sequence == created.change.sequence)
        #expect(next.documents.count == 6)
    }

    @Test(arguments: StoreKind.allCases) func aLargePageComesWhole(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        for i in 0..<150 { try insert(store, #"{"id":"n\#(String(format: "%03d", i))","i":\#(i)}"#) }
        let page = try store.list("todos", query: ListQuery(limit: 1000))
        #expect(page.documents.count == 150)
        #expect(page.documents.map(\.id) == (0..<150).map { "n" + String(format: "%03d", $0) })
        #expect(page.total == nil)
    }
}
