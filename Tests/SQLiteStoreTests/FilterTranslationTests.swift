import DocumentStore
import Foundation
import SQLiteStore
import Testing

/// The filter tree run against real SQLite: MongoDB's semantics, the type guards, and
/// index use shown by EXPLAIN QUERY PLAN.
@Suite struct FilterTranslationTests {
    let store: SQLiteStore

    init() throws {
        store = try makeStore()
        for doc in [
            #"{"id":"a","title":"Milk","done":false,"priority":1,"tags":["x","y"],"owner":{"name":"ann"}}"#,
            #"{"id":"b","title":"Bread","done":true,"priority":3,"tags":["y"],"owner":{"name":"bob"}}"#,
            #"{"id":"c","title":"Eggs","done":false,"priority":"high"}"#,
            #"{"id":"d","title":"Jam","done":false,"priority":2.5,"tags":"x"}"#,
            #"{"id":"e","title":"One","done":true,"priority":1}"#,
        ] { try insert(store, doc) }
    }

    func ids(_ filter: Filter, sort: [SortKey] = []) throws -> [String] {
        try store.list("todos", query: ListQuery(filter: filter, sort: sort)).documents.map(\.id)
    }

    func path(_ s: String) -> FieldPath { FieldPath(s)! }

    @Test func equalityOnBooleanDoesNotMatchIntegers() throws {
        #expect(try ids(.compare(path("done"), .eq, .bool(true))) == ["b", "e"])
        #expect(try ids(.compare(path("priority"), .eq, .int(1))) == ["a", "e"])
        #expect(try ids(.compare(path("priority"), .eq, .bool(true))) == [])
    }

    @Test func equalityOnArrayMatchesAnElement() throws {
        #expect(try ids(.compare(path("tags"), .eq, .string("x"))) == ["a", "d"])
        #expect(try ids(.compare(path("tags"), .eq, .array([.string("y")]))) == ["b"])
    }

    @Test func orderingComparisonsStayWithinTheirType() throws {
        #expect(try ids(.compare(path("priority"), .gte, .int(2))) == ["b", "d"])
        #expect(try ids(.compare(path("priority"), .gt, .string("a"))) == ["c"])
    }

    @Test func notEqualAndNotInMatchMissingFields() throws {
        #expect(try ids(.compare(path("tags"), .ne, .string("x"))) == ["b", "c", "e"])
        #expect(try ids(.notIn(path("owner.name"), [.string("ann")])) == ["b", "c", "d", "e"])
    }

    @Test func inExistsAndOr() throws {
        #expect(try ids(.isIn(path("title"), [.string("Jam"), .string("Milk")])) == ["a", "d"])
        #expect(try ids(.isIn(path("priority"), [.int(3), .string("high")])) == ["b", "c"])
        #expect(try ids(.exists(path("tags"), false)) == ["c", "e"])
        #expect(try ids(.or([.compare(path("id"), .eq, .string("c")), .compare(path("owner.name"), .eq, .string("bob"))])) == ["b", "c"])
        #expect(try ids(.and([.compare(path("done"), .eq, .bool(false)), .exists(path("owner"), true)])) == ["a"])
    }

    /// `$ne`/`$nin` with an array or object operand failed with "malformed JSON" when a
    /// document held a plain string there: under NOT, SQLite ran `json()` on the string
    /// despite the type guard (found by fuzz-filter-sql).
    @Test func negatedContainerComparisonSkipsStrings() throws {
        #expect(try ids(.compare(path("tags"), .ne, .array([.string("y")]))) == ["a", "c", "d", "e"])
        #expect(try ids(.notIn(path("title"), [.array([]), .null])) == ["a", "b", "c", "d", "e"])
        #expect(try ids(.notIn(path("priority"), [.object(JSONObject())])) == ["a", "b", "c", "d", "e"])
        let many = (0..<70).map { JSON.array([.int(Int64($0))]) }
        #expect(try ids(.notIn(path("tags"), many)) == ["a", "b", "c", "d", "e"])
    }

    @Test func nullMatchesMissing() throws {
        #expect(try ids(.compare(path("owner"), .eq, .null)) == ["c", "d", "e"])
    }

    @Test func sortsWithCreationOrderBreakingTies() throws {
        #expect(try ids(.all, sort: [SortKey(path("done"), descending: true)]) == ["b", "e", "a", "c", "d"])
        #expect(try ids(.all, sort: [SortKey(path("title"))]) == ["b", "c", "d", "a", "e"])
    }

    @Test func indexedFieldUsesItsIndex() throws {
        let plan = try store.queryPlan("todos", query: ListQuery(filter: .compare(path("done"), .eq, .bool(false))))
        #expect(plan.contains { $0.contains("USING INDEX") && $0.contains("ix.todos.done") }, "plan: \(plan)")
        let nested = try store.queryPlan("todos", query: ListQuery(filter: .compare(path("owner.name"), .eq, .string("ann"))))
        #expect(nested.contains { $0.contains("ix.todos.owner.name") }, "plan: \(nested)")
        let unindexed = try store.queryPlan("todos", query: ListQuery(filter: .compare(path("title"), .eq, .string("x"))))
        #expect(unindexed.contains { $0.hasPrefix("SCAN") }, "plan: \(unindexed)")
    }
}

/// Type guards left out where the schema fixes a field's type must not change results.
@Suite struct TypedFilterTranslationTests {
    @Test func typedAndUntypedLayoutsAgree() throws {
        func store(typed: Bool) throws -> SQLiteStore {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("typed-\(UUID().uuidString)")
            let s = try SQLiteStore(path: dir.appendingPathComponent("a.sqlite").path, logger: .init(label: "t"))
            let types: [FieldPath: CollectionLayout.FieldType] =
                typed
                ? [FieldPath("done")!: .boolean, FieldPath("n")!: .number, FieldPath("title")!: .string] : [:]
            try s.prepare([
                CollectionLayout(
                    name: "todos", indexes: [FieldPath("done")!], unique: [],
                    scalarPaths: [FieldPath("done")!, FieldPath("n")!, FieldPath("title")!], fieldTypes: types)
            ])
            for doc in [
                #"{"id":"a","done":true,"n":1,"title":"x"}"#, #"{"id":"b","done":false,"n":2.5,"title":"y"}"#,
                #"{"id":"c","n":0}"#, #"{"id":"d","done":false,"title":"z"}"#,
            ] {
                try insert(s, doc)
            }
            return s
        }
        let typed = try store(typed: true)
        let untyped = try store(typed: false)
        let p = { (s: String) in FieldPath(s)! }
        let filters: [Filter] = [
            .compare(p("done"), .eq, .bool(false)), .compare(p("done"), .ne, .bool(true)), .compare(p("done"), .eq, .int(0)),
            .compare(p("n"), .gte, .int(1)), .compare(p("n"), .lt, .double(2.6)), .compare(p("n"), .eq, .string("1")),
            .compare(p("title"), .gt, .string("x")), .compare(p("title"), .eq, .null), .isIn(p("title"), [.string("x"), .string("z")]),
            .notIn(p("n"), [.int(0), .bool(true)]), .compare(p("done"), .eq, .null),
        ]
        for filter in filters {
            let a = try typed.list("todos", query: ListQuery(filter: filter)).documents.map(\.id)
            let b = try untyped.list("todos", query: ListQuery(filter: filter)).documents.map(\.id)
            #expect(a == b, "\(filter)")
        }
        let plan = try typed.queryPlan("todos", query: ListQuery(filter: .compare(p("done"), .eq, .bool(false))))
        #expect(plan.contains { $0.contains("ix.todos.done") }, "plan: \(plan)")
    }
}

/// Streams decide `enter`/`leave` with `Filter.matches` in memory; lists ask the store.
/// Both must agree, or a page would see a document enter that its list would not hold.
@Suite struct InMemoryMatchingAgreesWithTheStore {
    @Test func everyFilterSelectsTheSameDocuments() throws {
        let store = try makeStore()
        let docs = [
            #"{"id":"a","title":"Milk","done":false,"priority":1,"tags":["x","y"],"owner":{"name":"ann"},"_v":1}"#,
            #"{"id":"b","title":"Bread","done":true,"priority":3,"tags":["y"],"owner":{"name":"bob"},"_v":1}"#,
            #"{"id":"c","title":"Eggs","done":false,"priority":"high","owner":null,"_v":1}"#,
            #"{"id":"d","title":"Jam","done":false,"priority":2.5,"tags":"x","_v":1}"#,
            #"{"id":"e","title":"One","done":true,"priority":1,"n":0,"_v":1}"#,
            #"{"id":"f","title":"éclair","done":true,"priority":true,"tags":[],"_v":1}"#,
        ]
        for doc in docs { try insert(store, doc) }
        let parsed = try docs.map { try #require(try JSONParser.parse($0).objectValue) }
        let p = { (s: String) in FieldPath(s)! }
        let filters: [Filter] = [
            .compare(p("done"), .eq, .bool(true)), .compare(p("priority"), .eq, .int(1)),
            .compare(p("priority"), .eq, .bool(true)), .compare(p("tags"), .eq, .string("x")),
            .compare(p("tags"), .eq, .array([.string("y")])), .compare(p("priority"), .gte, .int(2)),
            .compare(p("priority"), .lt, .double(2.5)), .compare(p("title"), .gt, .string("E")),
            .compare(p("title"), .lte, .string("Jam")), .compare(p("tags"), .ne, .string("x")),
            .compare(p("owner"), .eq, .null), .compare(p("owner"), .ne, .null),
            .compare(p("owner.name"), .eq, .string("ann")), .isIn(p("priority"), [.int(3), .string("high")]),
            .notIn(p("owner.name"), [.string("ann")]), .exists(p("tags"), false), .exists(p("owner"), true),
            .or([.compare(p("id"), .eq, .string("c")), .compare(p("n"), .eq, .int(0))]),
            .and([.compare(p("done"), .eq, .bool(false)), .exists(p("owner"), true)]),
            .compare(p("id"), .gte, .string("d")), .compare(p("_v"), .eq, .int(1)),
        ]
        for filter in filters {
            let fromStore = try store.list("todos", query: ListQuery(filter: filter)).documents.map(\.id)
            let inMemory = parsed.filter { filter.matches($0) }.compactMap { $0["id"]?.stringValue }
            #expect(fromStore == inMemory, "\(filter)")
        }
    }
}
