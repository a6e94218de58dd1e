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

    /// A count kept from an earlier head is carried through the writes since (SQLite:
    /// from the change log) and must equal counting again: creates, updates that move
    /// documents into and out of filters, deletes, one write or several between lists.
    @Test(arguments: StoreKind.allCases) func totalsStayExactThroughWrites(_ kind: StoreKind) throws {
        let store = try Self.filled(kind)
        let filters = cases.map(\.0) + [.compare(p("_v"), .gte, .int(2)), .compare(p("id"), .lt, .string("n"))]
        func checkTotals(_ step: Int) throws {
            for filter in filters {
                let total = try store.list("todos", query: ListQuery(filter: filter, limit: 0)).total
                let matching = try store.list("todos", query: ListQuery(filter: filter, limit: 1000)).documents.count
                // An empty page that holds everything there is has no total.
                #expect(total == (matching > 0 ? matching : nil), "step \(step): \(filter)")
            }
        }
        let priorities: [JSON] = [.int(1), .int(3), .string("high"), .double(2.5)]
        let tags: [JSON?] = [.array([.string("x"), .string("y")]), .string("x"), nil, .array([.string("y")])]
        var live = ["a", "b", "c", "d", "e"]
        try checkTotals(0)
        for step in 1...24 {
            for write in 0..<(step % 3 == 0 ? 3 : 1) {  // every third step, three writes between lists
                let n = step * 3 + write
                // Creates, updates and deletes in turn, whether one write or three come between lists.
                switch live.count <= 2 ? 0 : (step / 2 + write) % 3 {
                case 0:
                    var fields = [
                        #""id":"n\#(n)""#, #""title":"T\#(n)""#, #""done":\#(n % 2 == 0)"#, #""priority":\#(priorities[n % 4].serialized)"#,
                    ]
                    if let tag = tags[n % 4] { fields.append(#""tags":\#(tag.serialized)"#) }
                    if n % 5 == 0 { fields.append(#""owner":{"name":"bob"}"#) }
                    try insert(store, "{" + fields.joined(separator: ",") + "}")
                    live.append("n\(n)")
                case 1:
                    let id = live[n % live.count]
                    try update(
                        store, id,
                        [("done", .bool(n % 4 == 1)), ("priority", priorities[(n + 1) % 4]), ("tags", tags[(n + 2) % 4] ?? .null)])
                default:
                    let id = live.remove(at: n % live.count)
                    _ = try commit(store, id) { current in .delete(version: current!.version + 1) }.get()
                }
            }
            try checkTotals(step)
        }
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
