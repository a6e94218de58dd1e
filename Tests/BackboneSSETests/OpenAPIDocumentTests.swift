import DocumentStore
import Testing

@testable import BackboneSSE

/// The served `/openapi.yaml`: the bundled generic document with a path pair and
/// component schemas per configured collection (`OpenAPIDocument`, `CollectionSchemas`).
@Suite struct OpenAPIDocumentTests {
    static let config = """
        collections:
          todos:
            timestamps: true
            schema:
              type: object
              required: [title, done]
              additionalProperties: false
              properties:
                title: {type: string, minLength: 1, description: What to do}
                done: {type: boolean, default: false}
          to-do_notes: {}
        """

    static func document(_ yaml: String = config) throws -> JSONObject {
        let generic = try #require(OpenAPIDocument.generic)
        let config = try ConfigLoader.parse(yaml, context: TestTokens.context)
        return try #require(OpenAPIDocument.document(for: config, generic: generic).objectValue)
    }

    static func schema(_ document: JSONObject, _ name: String) throws -> JSONObject {
        try #require(document["components"]?.objectValue?["schemas"]?.objectValue?[name]?.objectValue)
    }

    static func names(_ value: JSON?) -> [String] {
        value?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    @Test func eachCollectionHasItsPathsInPlaceOfTheGenericOnes() throws {
        let document = try Self.document()
        let paths = try #require(document["paths"]?.objectValue)
        #expect(paths["/{collection}"] == nil && paths["/{collection}/{id}"] == nil)
        for path in ["/todos", "/todos/{id}", "/to-do_notes", "/to-do_notes/{id}", "/events", "/healthz", "/auth/ticket"] {
            #expect(paths[path] != nil, "no \(path)")
        }
        let list = try #require(paths["/todos"]?.objectValue?["get"]?.objectValue)
        #expect(list["operationId"] == .string("listTodosDocuments") && Self.names(list["tags"]) == ["todos"])
        // The generic parameters, then equality on each scalar field, typed.
        let parameters = try #require(list["parameters"]?.arrayValue).compactMap(\.objectValue)
        #expect(parameters.filter { $0["$ref"] != nil }.count == 10)
        let typed = parameters.filter { $0["in"] == .string("query") }
        #expect(typed.compactMap { $0["name"]?.stringValue } == ["title", "done"])
        #expect(typed.last?["schema"] == .object(JSONObject([("type", .string("boolean"))])))
        #expect(
            try #require(paths["/to-do_notes/{id}"]?.objectValue)["put"]?.objectValue?["operationId"] == .string("replaceToDoNotesDocument")
        )
        let info = try #require(document["info"]?.objectValue)
        #expect(info["version"] == .string(Release.version))
        let description = try #require(info["description"]?.stringValue)
        #expect(description.hasPrefix("**This server's collections**: `todos` (`TodosDocument`), `to-do_notes` (`ToDoNotesDocument`)."))
        #expect(!description.contains("**The generic description.**") && description.contains("Stock `Backbone.sync`"))
    }

    @Test func aCollectionsSchemaBecomesItsComponentWithTheServerFields() throws {
        let stored = try Self.schema(try Self.document(), "TodosDocument")
        let properties = try #require(stored["properties"]?.objectValue)
        #expect(properties.keys == ["id", "title", "done", "_v", "created", "updated"])
        #expect(properties["title"]?.objectValue?["description"] == .string("What to do"))  // as configured
        #expect(Self.names(stored["required"]) == ["id", "_v", "title", "done"])
        #expect(stored["additionalProperties"] == .bool(false))
        let open = try Self.schema(try Self.document(), "ToDoNotesDocument")
        #expect(open["properties"]?.objectValue?.keys == ["id", "_v"])
    }

    @Test func bodiesRequireNoServerFieldAndAPatchNothing() throws {
        let document = try Self.document()
        let write = try Self.schema(document, "TodosWrite")
        // `done` has a default, filled in before validation: a body may leave it out.
        #expect(Self.names(write["required"]) == ["title"])
        #expect(write["properties"]?.objectValue?.keys == ["id", "title", "done", "_v"])
        let patch = try Self.schema(document, "TodosPatch")
        #expect(patch["required"] == nil && patch["properties"] == write["properties"])
        let put = try #require(document["paths"]?.objectValue?["/todos/{id}"]?.objectValue?["patch"]?.objectValue)
        #expect(put["requestBody"] == CollectionSchemas.ref("requestBodies/TodosPatch"))
    }

    @Test func theOwnerFieldIsAServerField() throws {
        let yaml = """
            auth: {jwt: {secret_env: \(TestTokens.secretVariable)}}
            collections:
              todos: {owner: by, schema: {type: object, required: [by, title], properties: {title: {type: string}}}}
            """
        let document = try Self.document(yaml)
        #expect(try Self.schema(document, "TodosDocument")["properties"]?.objectValue?.keys == ["id", "title", "_v", "by"])
        #expect(Self.names(try Self.schema(document, "TodosWrite")["required"]) == ["title"])
        // A write's answer may be the id and version only (a caller who may not read).
        let created = document["paths"]?.objectValue?["/todos"]?.objectValue?["post"]?.objectValue?["responses"]?.objectValue?["201"]
        let schema = created?.objectValue?["content"]?.objectValue?["application/json"]?.objectValue?["schema"]?.objectValue
        #expect(schema?["anyOf"]?.arrayValue?.first == CollectionSchemas.ref("schemas/TodosDocument"))
    }

    @Test func aCollectionBuiltInCodeShowsItsParsedSchema() throws {
        let yaml = """
            collections:
              todos:
                schema:
                  type: object
                  required: [title]
                  additionalProperties: false
                  properties:
                    title: {type: string, minLength: 1, maxLength: 200, pattern: '^[A-Z]'}
                    done: {type: boolean, default: false}
                    order: {type: [integer, 'null'], minimum: 0}
                    tags: {type: array, items: {type: string, enum: [a, b]}}
                    due: {type: string, format: date-time}
            """
        var collection = try #require(try ConfigLoader.parse(yaml, context: TestTokens.context).collections.first)
        let written = try #require(collection.source?.objectValue?["schema"])
        collection.source = nil
        #expect(CollectionSchemas(config: collection, prefix: "Todos").configured == written.objectValue)
    }

    @Test func theYAMLReadsBackAsTheSameDocument() throws {
        let document = JSON.object(try Self.document())
        let text = try YAMLText.render(document)
        #expect(text.contains("openapi: '3.1.0'\n"))
        #expect(try YAMLConversion.parse(text) == document)
    }

    @Test func aReloadChangesTheServedDocument() async throws {
        try await TestApp.run(config: ConfigReloadTests.base) { app in
            let before = try await app.get("/openapi.yaml")
            #expect(before.status == 200 && before.text.contains("\n  /lists/{id}:\n") && !before.text.contains("/notes"))
            _ = app.app.reload(try ConfigReloadTests.parse(ConfigReloadTests.base + "\n  notes: {}"))
            let after = try await app.get("/openapi.yaml")
            #expect(after.status == 200 && after.text.contains("\n  /notes/{id}:\n") && after.text.contains("NotesDocument:"))
        }
    }
}
