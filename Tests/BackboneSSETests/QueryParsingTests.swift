@testable import BackboneSSE
import DocumentStore
import Testing

/// The schema most tests type their query strings by.
let todoSchema: Schema = {
    let yaml = """
        collections:
          todos:
            schema:
              type: object
              properties:
                title: {type: string}
                done: {type: boolean}
                priority: {type: integer}
                score: {type: number}
                tags: {type: array, items: {type: string}}
                owner: {type: object, properties: {name: {type: string}, age: {type: integer}}}
        """
    return try! ConfigLoader.parse(yaml).collections[0].schema
}()

func pairs(_ query: String) throws -> [(name: String, value: String)] {
    try QueryString.parse(query[...])
}

func listQuery(_ query: String, maxLimit: Int = 1000) throws -> ListQuery {
    try ListQueryParser.parse(try pairs(query), schema: todoSchema, maxLimit: maxLimit).query
}

func path(_ s: String) -> FieldPath { FieldPath(s)! }

@Suite struct QueryStringTests {
    @Test func decodesPercentAndPlus() throws {
        let p = try pairs("a=1&b=x+y%20z&c&d=%E2%9C%93&where%5Bdone%5D=false")
        #expect(p.map(\.name) == ["a", "b", "c", "d", "where[done]"])
        #expect(p.map(\.value) == ["1", "x y z", "", "✓", "false"])
    }

    @Test(arguments: ["a=%", "a=%G1", "a=%4", "a=%FF"])
    func rejectsBadEscapes(_ query: String) {
        #expect(throws: APIError.self) { try pairs(query) }
    }
}

@Suite struct BracketFormTests {
    @Test func buildsNestedObjectsAndArrays() throws {
        let tree = try BracketForm.tree(try pairs("where[tag][$in][]=a&where[tag][$in][]=b&where[priority][$gte]=2"))
        #expect(JSON.object(tree).serialized == #"{"where":{"tag":{"$in":["a","b"]},"priority":{"$gte":"2"}}}"#)
    }

    @Test func numberedKeysBecomeArrays() throws {
        // $.param({where: {$or: [{done: true}, {priority: 3}]}})
        let tree = try BracketForm.tree(try pairs("where[$or][0][done]=true&where[$or][1][priority]=3"))
        #expect(JSON.object(tree).serialized == #"{"where":{"$or":[{"done":"true"},{"priority":"3"}]}}"#)
    }

    @Test func rejectsMalformedNames() {
        #expect(throws: APIError.self) { try BracketForm.tree(try pairs("where[a=1")) }
        #expect(throws: APIError.self) { try BracketForm.tree(try pairs("a=1&a[b]=2")) }
    }
}

@Suite struct ListQueryParserTests {
    @Test func equalityParamsAreTypedBySchema() throws {
        let q = try listQuery("done=false&priority=2&title=3&unknown=true&_=123")
        #expect(
            q.filter
                == .and([
                    .compare(path("done"), .eq, .bool(false)),
                    .compare(path("priority"), .eq, .int(2)),
                    .compare(path("title"), .eq, .string("3")),
                    .isIn(path("unknown"), [.string("true"), .bool(true)]),
                ]))
    }

    @Test func bracketWhereIsTypedBySchemaIncludingArrayItems() throws {
        let q = try listQuery("where[priority][$gte]=2&where[tags][$in][]=a&where[owner.age][$lt]=30")
        #expect(
            q.filter
                == .and([
                    .compare(path("priority"), .gte, .int(2)),
                    .isIn(path("tags"), [.string("a")]),
                    .compare(path("owner.age"), .lt, .int(30)),
                ]))
    }

    @Test func jsonWhereKeepsItsOwnTypes() throws {
        let q = try listQuery(#"where={"title":3,"owner.name":{"$ne":"ann"},"$or":[{"done":true},{"score":{"$exists":false}}]}"#)
        #expect(
            q.filter
                == .and([
                    .compare(path("title"), .eq, .int(3)),
                    .compare(path("owner.name"), .ne, .string("ann")),
                    .or([.compare(path("done"), .eq, .bool(true)), .exists(path("score"), false)]),
                ]))
    }

    @Test func queryIsAnAliasOfWhere() throws {
        #expect(try listQuery(#"query={"done":true}"#).filter == .compare(path("done"), .eq, .bool(true)))
    }

    @Test(arguments: [
        #"where={"$where":"1"}"#, #"where={"a":{"$regex":"x"}}"#, #"where={"a":{"$function":{}}}"#,
        "where[a][$elemMatch]=1", #"where={"a":{"$gt":true}}"#, "where=[1]", "where={", "done=maybe",
        "priority=abc", "limit=abc", "limit=-1", "skip=-1", "skip=1.5", "sort[title]=up", "sort=a..b",
        #"where={"a":{"$in":"x"}}"#, #"where={"a b":1}"#, #"where={"a":{"$gt":1,"b":2}}"#,
        #"where={"a":{"b":{"$where":"1"}}}"#, #"where={"a":{"$in":[{"$gt":1}]}}"#, "where[a][b][$where]=1",
    ])
    func rejects(_ query: String) {
        #expect(throws: APIError.self) { try listQuery(query) }
    }

    @Test func sortInBothForms() throws {
        #expect(try listQuery("sort=-created,title").sort == [SortKey(path("created"), descending: true), SortKey(path("title"))])
        #expect(
            try listQuery("sort[priority]=-1&sort[title]=1").sort == [SortKey(path("priority"), descending: true), SortKey(path("title"))])
    }

    @Test func limitIsCappedAndDefaultsToTheCap() throws {
        #expect(try listQuery("limit=5000", maxLimit: 100).limit == 100)
        #expect(try listQuery("", maxLimit: 100).limit == 100)
        #expect(try listQuery("limit=20&skip=40").limit == 20)
        #expect(try listQuery("limit=20&skip=40").skip == 40)
    }
}

@Suite struct LooseTypingTests {
    @Test func untypedFieldsMatchTheStringOrTheLiteral() throws {
        #expect(try listQuery("order=2").filter == .isIn(path("order"), [.string("2"), .int(2)]))
        #expect(try listQuery("flag=true").filter == .isIn(path("flag"), [.string("true"), .bool(true)]))
        #expect(try listQuery("name=ann").filter == .compare(path("name"), .eq, .string("ann")))
        #expect(try listQuery("where[order][$gte]=2").filter == .compare(path("order"), .gte, .int(2)))
        #expect(try listQuery("where[order][$ne]=2").filter == .notIn(path("order"), [.string("2"), .int(2)]))
    }
}
