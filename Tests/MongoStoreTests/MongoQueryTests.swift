import DocumentStore
@testable import MongoStore
import Testing

@Suite struct MongoQueryTests {
    func p(_ s: String) -> FieldPath { FieldPath(s)! }

    func text(_ filter: Filter) -> String { JSON.object(MongoQuery.filter(filter).json).serialized }

    @Test func everyOperatorBecomesItsMongoDBForm() {
        #expect(text(.all) == "{}")
        #expect(text(.compare(p("done"), .eq, .bool(false))) == #"{"done":{"$eq":false}}"#)
        #expect(text(.compare(p("owner.name"), .ne, .string("ann"))) == #"{"owner.name":{"$ne":"ann"}}"#)
        #expect(text(.compare(p("n"), .gte, .int(2))) == #"{"n":{"$gte":2}}"#)
        #expect(text(.isIn(p("tags"), [.string("a"), .int(1)])) == #"{"tags":{"$in":["a",1]}}"#)
        #expect(text(.notIn(p("tags"), [])) == #"{"tags":{"$nin":[]}}"#)
        #expect(text(.exists(p("x"), false)) == #"{"x":{"$exists":false}}"#)
        #expect(
            text(.or([.compare(p("id"), .eq, .string("a")), .and([.exists(p("y"), true)])]))
                == #"{"$or":[{"_id":{"$eq":"a"}},{"$and":[{"y":{"$exists":true}}]}]}"#)
    }

    @Test func onScalarPathsAStoredArrayMatchesNothing() {
        // As SQLite compares them: an owner list ["alice", "bob"] is neither's.
        let scalar: Set<FieldPath> = [p("owner")]
        func scalarText(_ filter: Filter) -> String { JSON.object(MongoQuery.filter(filter, scalar: scalar).json).serialized }
        #expect(
            scalarText(.compare(p("owner"), .eq, .string("alice")))
                == #"{"owner":{"$eq":"alice","$not":{"$type":"array"}}}"#)
        #expect(
            scalarText(.isIn(p("owner"), [.string("a")])) == #"{"owner":{"$in":["a"],"$not":{"$type":"array"}}}"#)
        #expect(scalarText(.compare(p("tags"), .eq, .string("a"))) == #"{"tags":{"$eq":"a"}}"#)
    }

    @Test func operandsAreValuesNeverOperators() {
        // A value that looks like an operator stays a value under $eq.
        let sneaky = JSON.object(JSONObject([("$where", .string("sleep(1000)"))]))
        #expect(text(.compare(p("a"), .eq, sneaky)) == #"{"a":{"$eq":{"$where":"sleep(1000)"}}}"#)
    }

    @Test func sortEndsWithCreationOrder() {
        let sort = MongoQuery.sort([SortKey(p("created"), descending: true), SortKey(p("id"))])
        #expect(JSON.object(sort.json).serialized == #"{"created":-1,"_id":1,"_c":1}"#)
    }
}
