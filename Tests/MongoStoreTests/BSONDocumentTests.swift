import CMongoc
import DocumentStore
@testable import MongoStore
import Testing

@Suite struct BSONDocumentTests {
    @Test func jsonSurvivesTheRoundTripWithItsTypes() throws {
        let text =
            #"{"id":"x","n":3,"big":9007199254740993,"d":2.5,"whole":2.0,"t":true,"f":false,"z":null,"s":"é\"","a":[1,"two",[3],{"four":4}],"o":{"p":{"q":[]}},"e":{}}"#
        let original = try #require(try JSONParser.parse(text).objectValue)
        let back = BSONDocument(original).json
        #expect(back == original)
        #expect(JSON.object(back).serialized == text)
        if case .int(let i)? = back["big"] { #expect(i == 9_007_199_254_740_993) } else { Issue.record("an integer must stay an integer") }
        if case .double? = back["whole"] {} else { Issue.record("2.0 must stay a double") }
    }

    @Test func keepsMemberOrder() throws {
        let original = try #require(try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        #expect(BSONDocument(original).json.keys == ["z", "a", "m"])
    }

    @Test func readsObjectIdsAsHexStrings() {
        let doc = BSONDocument()
        var oid = bson_oid_t()
        bson_oid_init_from_string(&oid, "65f0c1a3b4c5d6e7f8091234")
        _ = bson_append_oid(doc.raw, "_id", 3, &oid)
        #expect(doc.json["_id"] == .string("65f0c1a3b4c5d6e7f8091234"))
    }

    @Test func int32ReadsAsAnInteger() {
        let doc = BSONDocument()
        _ = bson_append_int32(doc.raw, "n", 1, 7)
        #expect(doc.json["n"] == .int(7))
    }

    /// libbson refuses a name with a NUL (BSON names are C strings): the document says
    /// so, at any depth, and is never sent (the service refuses such bodies before).
    @Test func aRefusedAppendMarksTheDocumentIncomplete() throws {
        let fine = BSONDocument(try #require(try JSONParser.parse(#"{"a":{"b":[1,{"c":2}]}}"#).objectValue))
        #expect(!fine.incomplete)
        for text in [#"{"a\u0000b":1}"#, #"{"x":{"a\u0000b":1}}"#, #"{"x":[{"a\u0000b":1}]}"#] {
            let document = BSONDocument(try #require(try JSONParser.parse(text).objectValue))
            #expect(document.incomplete, "\(text)")
            let outer = BSONDocument()
            outer.append("filter", document: document)
            #expect(outer.incomplete)
        }
    }
}
