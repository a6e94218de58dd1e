import BackboneSSE
import DocumentStore
import Testing

/// What an import checks of each document: the schema, and the fields the server keeps.
@Suite struct StoredDocumentCheckTests {
    static let todos = try! ConfigLoader.parse(
        """
        collections:
          todos:
            timestamps: true
            schema:
              type: object
              required: [title]
              properties:
                title: {type: string, minLength: 1}
        """
    ).collections[0]

    static func document(_ json: String) -> JSONObject {
        (try! JSONParser.parse(json)).objectValue!
    }

    @Test func aDocumentAsTheServerWroteItPasses() {
        let doc = Self.document(
            #"{"id":"a1","title":"Milk","created":"2026-12-05T01:02:03.456Z","updated":"2026-12-05T01:02:03.456Z","_v":2}"#)
        #expect(Self.todos.storedDocumentIssues(doc).isEmpty)
    }

    @Test func everyIssueIsListedWithItsPath() {
        let doc = Self.document(#"{"id":".x","title":"","created":"yesterday","_v":0}"#)
        let issues = Self.todos.storedDocumentIssues(doc).map { "\($0.path) \($0.message)" }
        #expect(
            issues == [
                "/id is not a valid document id", "/_v must be an integer of at least 1", "/created must be an RFC 3339 date-time",
                "/updated is required", "/title must not be empty",
            ])
    }

    @Test func namesTheMongoDBStoreKeepsAreRefusedOnEveryStore() {
        let doc = Self.document(
            #"{"id":"a1","title":"t","created":"2026-12-05T01:02:03Z","updated":"2026-12-05T01:02:03Z","_v":1,"_c":3,"$set":1}"#)
        #expect(Self.todos.storedDocumentIssues(doc).map(\.path) == ["/_c", "/$set"])
    }
}
