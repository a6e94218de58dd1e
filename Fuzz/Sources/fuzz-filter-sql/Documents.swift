import DocumentStore

/// The documents every filter runs over, in the store and in memory. They keep to the
/// layout below (`b`, `n`, `s` are never arrays and have one type), as the schema makes
/// stored documents do; `x`, `tags` and `x.y` hold anything, MongoDB's array and
/// missing-field rules included.
enum Documents {
    static let layout = CollectionLayout(
        name: "docs", indexes: [FieldPath("s")!], unique: [],
        scalarPaths: [FieldPath("b")!, FieldPath("n")!, FieldPath("s")!],
        fieldTypes: [FieldPath("b")!: .boolean, FieldPath("n")!: .number, FieldPath("s")!: .string])

    static let texts = [
        #"{"id":"d0","b":true,"n":1,"s":"a","x":1,"tags":["a","b"]}"#,
        #"{"id":"d1","b":false,"n":2.5,"s":"\u00e9","x":"1","tags":"a"}"#,
        #"{"id":"d2","n":-3,"s":"e\u0301","x":null,"tags":[1,2,[3]]}"#,
        #"{"id":"d3","b":true,"x":{"y":2},"tags":[]}"#,
        #"{"id":"d4","s":"","x":[1,"a",null,true],"tags":[{"y":1}]}"#,
        #"{"id":"d5","n":9007199254740993,"x":1.0,"tags":["\u00e9"]}"#,
        #"{"id":"d6","n":0,"s":"Z","x":{"y":[1,2]}}"#,
        #"{"id":"d7","x":false,"tags":null}"#,
        #"{"id":"d8","n":1e300,"x":-0.0,"tags":[[]]}"#,
        #"{"id":"d9","n":-0.5,"s":"ab","x":"ab","tags":[null]}"#,
    ]

    static let all: [JSONObject] = texts.map { try! JSONParser.parse($0).objectValue! }

    /// Field paths a filter names: typed scalars, free fields, nested, missing, `id`.
    static let paths = ["id", "b", "n", "s", "x", "x.y", "tags", "tags.y", "missing"].map { FieldPath($0)! }

    /// Operands: each type, the edges of number comparison (int against double, beyond
    /// 2^53, -0.0), and canonically equivalent strings.
    static let operands: [JSON] = [
        .null, .bool(true), .bool(false), .int(0), .int(1), .int(2), .int(-3), .double(2.5), .double(1.0),
        .double(-0.0), .int(9_007_199_254_740_993), .double(9_007_199_254_740_992), .double(1e300), .int(.max), .int(.min),
        .string("a"), .string("1"), .string(""), .string("\u{E9}"), .string("e\u{301}"), .string("Z"), .string("ab"),
        .string("d3"), .array([]), .array([.string("a"), .string("b")]), .array([.int(1), .int(2), .array([.int(3)])]),
        .object(JSONObject([("y", .int(2))])), .object(JSONObject()), .array([.null]),
    ]
}
