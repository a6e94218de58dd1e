@testable import BackboneSSE
import DocumentStore
import Foundation
import Testing

@Suite struct SchemaValidationTests {
    let schema: Schema = try! ConfigLoader.parse(
        """
        collections:
          things:
            schema:
              type: object
              required: [title]
              additionalProperties: false
              properties:
                title: {type: string, minLength: 1, maxLength: 5}
                kind: {enum: [a, b]}
                n: {type: integer, minimum: 0, maximum: 10}
                x: {type: number}
                code: {type: string, pattern: "^[A-Z]{2}$"}
                when: {type: string, format: date-time}
                tags: {type: array, items: {type: string}}
                done: {type: boolean, default: false}
                opt: {type: [string, "null"]}
        """
    ).collections[0].schema

    func issues(_ json: String) throws -> [ValidationIssue] {
        SchemaValidator.validate(try JSONParser.parse(json), against: schema)
    }

    @Test func acceptsAValidDocument() throws {
        #expect(
            try issues(#"{"title":"ab","kind":"a","n":3,"x":1.5,"code":"AB","when":"2024-01-02T03:04:05Z","tags":["q"],"opt":null}"#)
                .isEmpty)
        #expect(try issues(#"{"title":"ab","n":2.0,"x":2}"#).isEmpty)
    }

    @Test func reportsEveryIssueWithItsPointer() throws {
        let found = try issues(#"{"kind":"c","n":11,"x":"1","code":"abc","when":"yesterday","tags":[1],"extra":1,"opt":3}"#)
        let paths = Set(found.map(\.path))
        #expect(paths == ["/title", "/kind", "/n", "/x", "/code", "/when", "/tags/0", "/extra", "/opt"])
        #expect(found.first { $0.path == "/title" }?.message == "is required")
    }

    @Test func lengthsCountCharactersNotBytes() throws {
        #expect(try issues(#"{"title":"ééééé"}"#).isEmpty)
        #expect(try issues(#"{"title":""}"#).map(\.message) == ["must not be empty"])
        #expect(try issues(#"{"title":"abcdef"}"#).count == 1)
        #expect(try issues(#"{"title":"éééééé"}"#).count == 1)
        #expect(try issues(#"{"title":"😀😀😀😀😀"}"#).isEmpty)  // 20 bytes, 5 code points
        #expect(try issues(#"{"title":"😀😀😀😀😀😀"}"#).count == 1)
        #expect(try issues(#"{"title":"\u00e9"}"#).isEmpty)
    }

    @Test func appliesDefaults() throws {
        var object = try #require(try JSONParser.parse(#"{"title":"a"}"#).objectValue)
        SchemaValidator.applyDefaults(&object, schema: schema)
        #expect(object["done"] == .bool(false))
    }

    @Test(arguments: ["2024-01-02T03:04:05Z", "2024-01-02T03:04:05.123+02:00", "2024-12-31t23:59:60z"])
    func acceptsDateTimes(_ s: String) { #expect(DateTime.isValid(s)) }

    @Test(arguments: ["2024-01-02", "2024-13-02T03:04:05Z", "2024-01-02T03:04:05", "2024-01-02T03:04:05+0200", "x"])
    func rejectsDateTimes(_ s: String) { #expect(!DateTime.isValid(s)) }

    @Test func nowIsAnRFC3339Timestamp() { #expect(DateTime.isValid(DateTime.now())) }

    /// Every field zero-padded to its width, milliseconds included, in UTC.
    @Test func datesAreWrittenInUTCWithMilliseconds() {
        #expect(DateTime.string(Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(DateTime.string(Date(timeIntervalSince1970: 1_709_296_200 + 1 / 128)) == "2024-03-01T12:30:00.007Z")
        #expect(DateTime.string(Date(timeIntervalSince1970: 1_735_689_599 + 1023 / 1024)) == "2024-12-31T23:59:59.999Z")
    }
}
