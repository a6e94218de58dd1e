import DocumentStore
import Testing

@Suite struct JSONParserTests {
    @Test func keepsIntegersApartFromDoubles() throws {
        let value = try JSONParser.parse(#"{"a":1,"b":1.5,"c":-0,"d":1e2,"e":9223372036854775807}"#)
        let o = try #require(value.objectValue)
        #expect(o["a"] == .int(1))
        if case .int = o["a"]! {} else { Issue.record("1 must stay an integer") }
        if case .double(let d) = o["b"]! { #expect(d == 1.5) } else { Issue.record("1.5 must be a double") }
        if case .double = o["d"]! {} else { Issue.record("1e2 is written as a double") }
        #expect(o["e"] == .int(Int64.max))
    }

    @Test func keepsMemberOrder() throws {
        let o = try #require(try JSONParser.parse(#"{"z":1,"a":2,"m":3}"#).objectValue)
        #expect(o.keys == ["z", "a", "m"])
    }

    @Test(arguments: [
        #"{"z":1,"a":2,"z":3}"#, #"{"id":"a","id":"b"}"#, #"{"o":{"k":1,"k":1}}"#, #"[{"x":[{"y":null,"y":null}]}]"#,
        #"{"\u0069d":1,"id":2}"#,
    ])
    func rejectsDuplicateMemberNames(_ text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(text) }
    }

    @Test func namesTheDuplicateMember() {
        do {
            _ = try JSONParser.parse(#"{"id":"a","id":"b"}"#)
            Issue.record("a repeated name must be refused")
        } catch {
            #expect(error.description == #"duplicate member name "id" at byte 10"#)
        }
    }

    @Test func findsDuplicatesInLargeObjects() throws {
        let members = (0..<1_000).map { "\"k\($0)\":\($0)" }
        _ = try JSONParser.parse("{" + members.joined(separator: ",") + "}")
        #expect(throws: JSONParser.Error.self) {
            try JSONParser.parse("{" + (members + [#""k17":0"#]).joined(separator: ",") + "}")
        }
        #expect(throws: JSONParser.Error.self) {
            try JSONParser.parse("{" + (members + [#""k999":0"#]).joined(separator: ",") + "}")
        }
    }

    @Test(arguments: ["1e999999", "-1e400", "1e-999999", "-1e-400", "0.5e-400", #"[1,{"a":2e-999}]"#])
    func rejectsNumbersOutOfRange(_ text: String) {
        do {
            _ = try JSONParser.parse(text)
            Issue.record("\(text) must be refused")
        } catch {
            #expect(error.message == "number out of range")
        }
    }

    @Test func keepsZerosAndSubnormals() throws {
        #expect(try JSONParser.parse("0e-999999") == .double(0))
        #expect(try JSONParser.parse("-0.000e-400") == .double(0))
        #expect(try JSONParser.parse("5e-324") == .double(.leastNonzeroMagnitude))
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let s = try JSONParser.parse(#""a\"b\\c\/\n\u00e9\ud83d\ude00""#)
        #expect(s == .string("a\"b\\c/\né😀"))
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":}", "01", "1.", "-", "tru", "\"\u{01}\"", "{\"a\" 1}", "[1] x",
        "\"\\ud800\"", "\"\\x\"", "NaN", "{'a':1}",
    ])
    func rejectsMalformedJSON(_ text: String) {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(text) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse([0x22, 0xFF, 0x22]) }
    }

    @Test func boundsNesting() throws {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        #expect(throws: JSONParser.Error.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        _ = try JSONParser.parse(fine)
    }

    @Test func serializationRoundTrips() throws {
        let text = #"{"id":"x","n":3,"d":2.5,"s":"é\"\n","a":[true,false,null],"o":{}}"#
        let value = try JSONParser.parse(text)
        #expect(value.serialized == text)
        #expect(try JSONParser.parse(value.serialized) == value)
    }

    @Test func controlCharactersAreEscaped() {
        #expect(JSON.string("\u{01}").serialized == #""\u0001""#)
    }
}
