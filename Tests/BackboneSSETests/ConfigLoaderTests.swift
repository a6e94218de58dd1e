@testable import BackboneSSE
import DocumentStore
import Testing

@Suite struct ConfigLoaderTests {
    @Test func readsTheDesignExample() throws {
        let config = try ConfigLoader.parse(
            """
            collections:
              todos:
                timestamps: true
                indexes: [done, created]
                unique: [slug]
                schema:
                  type: object
                  required: [title]
                  properties:
                    title: {type: string, minLength: 1, maxLength: 200}
                    done:  {type: boolean, default: false}
              lists: {}
            """)
        #expect(config.collections.map(\.name) == ["todos", "lists"])
        let todos = config.collections[0]
        #expect(todos.timestamps)
        #expect(todos.indexes == [FieldPath("done")!, FieldPath("created")!])
        #expect(todos.unique == [FieldPath("slug")!])
        #expect(todos.layout.scalarPaths.contains(FieldPath("done")!))
    }

    @Test func acceptsJSON() throws {
        let config = try ConfigLoader.parse(#"{"collections":{"a":{"timestamps":false}}}"#, json: true)
        #expect(config.collections.map(\.name) == ["a"])
    }

    @Test(arguments: [
        ("collections:\n  Todos: {}", "collections.Todos"),
        ("collections:\n  events: {}", "collections.events"),
        ("collections:\n  todos: {timestamp: true}", "collections.todos.timestamp"),
        ("collections:\n  todos: {timestamps: yes please}", "collections.todos.timestamps"),
        ("collections:\n  todos: {indexes: [\"a b\"]}", "collections.todos.indexes[0]"),
        ("collections:\n  todos: {unique: [slug, _v]}", "collections.todos.unique[1]"),
        ("collections:\n  todos: {unique: [id]}", "collections.todos.unique[0]"),
        ("collections:\n  todos: {schema: {type: object, properties: {t: {type: strin}}}}", "collections.todos.schema.properties.t.type"),
        ("collections:\n  todos: {schema: {properties: {t: {minLength: -1}}}}", "collections.todos.schema.properties.t.minLength"),
        ("collections:\n  todos: {schema: {properties: {t: {pattern: \"([\"}}}}", "collections.todos.schema.properties.t.pattern"),
        ("collections:\n  todos: {schema: {properties: {t: {maxLen: 3}}}}", "collections.todos.schema.properties.t.maxLen"),
        ("collections:\n  todos: {schema: {properties: {t: {type: string, default: 3}}}}", "collections.todos.schema.properties.t.default"),
        ("collection: {}", "collection"),
        ("collections: []", "collections"),
    ])
    func namesTheKeyOfAMistake(_ yaml: String, _ key: String) {
        do {
            _ = try ConfigLoader.parse(yaml)
            Issue.record("accepted a bad config: \(yaml)")
        } catch {
            #expect(error.key == key, "\(error)")
        }
    }

    /// Plain scalars by the YAML 1.2 core schema; quoted ones are strings, and `no` is
    /// not `false` (the YAML 1.1 trap: a list of country codes `[SE, NO]`).
    @Test func typesScalarsByTheCoreSchema() throws {
        let yaml = #"""
            {a: 12, b: -3, c: 1.5, d: true, e: null, f: "12", g: 'true', h: no, i: 0x1F, j: ~,
             k: 1e3, l: False, m: .5, n: 1.2.3, o: !!int "7", p: "", q: [SE, NO], r: 2024-01-01}
            """#
        let json = try YAMLConversion.parse(yaml)
        let expected = try JSONParser.parse(
            #"""
            {"a": 12, "b": -3, "c": 1.5, "d": true, "e": null, "f": "12", "g": "true", "h": "no", "i": 31,
             "j": null, "k": 1000.0, "l": false, "m": 0.5, "n": "1.2.3", "o": 7, "p": "", "q": ["SE", "NO"],
             "r": "2024-01-01"}
            """#)
        #expect(json == expected)
        #expect(throws: ConfigError.self) { try YAMLConversion.parse("a: 99999999999999999999") }
        #expect(throws: ConfigError.self) { try YAMLConversion.parse("a: !!int x") }
    }

    @Test func reportsTheFile() {
        do {
            _ = try ConfigLoader.load(path: "/nonexistent/collections.yaml")
            Issue.record("loaded a missing file")
        } catch {
            #expect(error.description.hasPrefix("/nonexistent/collections.yaml"))
        }
    }
}
