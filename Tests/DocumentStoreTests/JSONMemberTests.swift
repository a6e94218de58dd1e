import DocumentStore
import Testing

/// `JSONParser.member`: one member of a stored document, the rest skipped unbuilt. It
/// must agree with a whole parse on every document, whatever comes before the member.
@Suite struct JSONMemberTests {
    static let documents = [
        #"{"id":"a","owner":"alice","title":"x","_v":1}"#,
        #"{"id":"a","title":"x } ] \" { [ ,","tags":["}",{"owner":"nested"}],"n":-1.5e3,"ok":true,"no":null,"owner":"alice"}"#,
        #"{ "id" : "a" , "deep" : {"a":[[{"b":"}"}]],"c":{}} , "owner" : "\u0061lice" }"#,
        #"{"id":"a","title":"x"}"#,
        #"{"id":"a","owner":["alice","bob"]}"#,
        #"{"id":"a","owner":{"sub":"alice"}}"#,
        #"{}"#,
        #"{"id":"a","\u006fwner":"alice"}"#,
        #"{"id":"a","note":"a \\\" quote, a \\ backslash","owner\\":"no","owner":"alice"}"#,
        #"{"id":"a","own":"x","owners":"y","owner":"alice"}"#,
    ]

    @Test(arguments: documents)
    func agreesWithAWholeParse(_ text: String) throws {
        let whole = try JSONParser.parse(text).objectValue
        #expect(JSONParser.member("owner", of: text) == whole?["owner"], "\(text)")
        #expect(JSONParser.member("id", of: text) == whole?["id"], "\(text)")
    }

    @Test(arguments: [#"[1,2]"#, #""owner""#, #"{"id":"a","#, #"{"id":"a" "owner":"x"}"#, ""])
    func notAnObjectOrMalformedIsNil(_ text: String) {
        #expect(JSONParser.member("owner", of: text) == nil)
    }

    @Test func namesAreComparedByTheirBytes() {
        #expect(JSONParser.member("jos\u{E9}", of: #"{"jose\u0301":1}"#) == nil)
        #expect(JSONParser.member("jos\u{E9}", of: #"{"jos\u00e9":1}"#) == .int(1))
    }
}
