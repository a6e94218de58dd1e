import DocumentStore
import Testing

/// `$in` and `$nin` with thousands of operands of mixed types (issue 13): the SQLite
/// store once built an OR chain past SQLite's expression depth limit (a 500 from 999
/// non-string values on); every store must give MongoDB's answer at any length.
@Suite struct LongInListConformanceTests {
    static let documents = [
        #"{"id":"int","priority":7}"#,
        #"{"id":"double","priority":2.5}"#,
        #"{"id":"tenth","priority":0.1}"#,
        #"{"id":"far","priority":5000}"#,
        #"{"id":"string","priority":"s3"}"#,
        #"{"id":"digits","priority":"7"}"#,
        #"{"id":"true","priority":true}"#,
        #"{"id":"false","priority":false}"#,
        #"{"id":"null","priority":null}"#,
        #"{"id":"missing"}"#,
        #"{"id":"array","priority":[9999,12]}"#,
        #"{"id":"farArray","priority":[9999,"zz"]}"#,
    ]

    /// About 2,000 operands: 0…1,499, some doubles,
    /// strings, `true` and `null` — and not `false`, `"7"` or `"zz"`.
    static let operands: [JSON] =
        (0..<1_500).map { JSON.int(Int64($0)) } + (0..<100).map { JSON.double(Double($0) + 0.5) } + [.double(0.1)]
        + (0..<400).map { JSON.string("s\($0)") } + [.bool(true), .null]

    static let matching = ["int", "double", "tenth", "string", "true", "null", "missing", "array"]

    func ids(_ kind: StoreKind, _ filter: Filter) throws -> [String] {
        let store = try StoreFixture(kind).store
        for document in Self.documents { try insert(store, document) }
        return try store.list("todos", query: ListQuery(filter: filter)).documents.map(\.id)
    }

    @Test(arguments: StoreKind.allCases) func inWithThousandsOfMixedValues(_ kind: StoreKind) throws {
        #expect(Self.operands.count > 1_999)
        #expect(try ids(kind, .isIn(FieldPath("priority")!, Self.operands)) == Self.matching)
    }

    @Test(arguments: StoreKind.allCases) func notInWithThousandsOfMixedValues(_ kind: StoreKind) throws {
        #expect(try ids(kind, .notIn(FieldPath("priority")!, Self.operands)) == ["far", "digits", "false", "farArray"])
    }

    @Test(arguments: StoreKind.allCases) func idTakesALongList(_ kind: StoreKind) throws {
        let names = (0..<2_000).map { JSON.string("x\($0)") } + [.string("far"), .int(1)]
        #expect(try ids(kind, .isIn(FieldPath("id")!, names)) == ["far"])
    }
}
