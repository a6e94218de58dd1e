import DocumentStore
import Foundation

/// The OpenAPI document `GET /openapi.yaml` serves: the bundled generic one
/// (Resources/openapi.yaml, the one description of everything a config does not
/// decide) with its `/{collection}` paths replaced by one pair of paths per configured
/// collection, each with its component schemas (`CollectionSchemas`), and `info.version`
/// from `Release.version`.
enum OpenAPIDocument {
    /// The generic paths that the configured collections replace.
    static let listPath = "/{collection}"
    static let documentPath = "/{collection}/{id}"

    /// The bundled generic document, parsed (nil when the build did not bundle it): on
    /// each call, not kept, since it is read once per config.
    static var generic: JSON? {
        SystemEndpoints.openAPIDocument.flatMap { try? YAMLConversion.parse(String(decoding: $0, as: UTF8.self)) }
    }

    /// The served document as YAML text (nil when the build did not bundle the generic one).
    static func yaml(for config: AppConfig) -> [UInt8]? {
        guard let generic, let text = try? YAMLText.render(document(for: config, generic: generic)) else { return nil }
        return Array(text.utf8)
    }

    static func document(for config: AppConfig, generic: JSON) -> JSON {
        guard var top = generic.objectValue, let paths = top["paths"]?.objectValue,
            var components = top["components"]?.objectValue
        else { return generic }
        let collections = CollectionSchemas.named(config.collections, authenticated: config.auth != nil)
        var schemas = components["schemas"]?.objectValue ?? JSONObject()
        var bodies = components["requestBodies"]?.objectValue ?? JSONObject()
        let genericBody = bodies.removeValue(forKey: "Document") ?? .object(JSONObject())
        for collection in collections {
            for (name, schema) in collection.schemas(generic: schemas) { schemas[name] = schema }
            bodies["\(collection.prefix)Write"] = collection.requestBody(genericBody, schema: "\(collection.prefix)Write")
            bodies["\(collection.prefix)Patch"] = collection.requestBody(genericBody, schema: "\(collection.prefix)Patch")
        }
        components["schemas"] = .object(schemas)
        components["requestBodies"] = .object(bodies)
        if var parameters = components["parameters"]?.objectValue {
            _ = parameters.removeValue(forKey: "collection")
            // `/events?collections=`: the names this config declares.
            if case .object(var events)? = parameters["collections"], case .object(var schema)? = events["schema"] {
                let names = JSON.array(config.collections.map { .string($0.name) })
                schema["items"] = .object(JSONObject([("type", .string("string")), ("enum", names)]))
                events["schema"] = .object(schema)
                parameters["collections"] = .object(events)
            }
            components["parameters"] = .object(parameters)
        }
        top["components"] = .object(components)

        var served: [(key: String, value: JSON)] = []
        for (path, item) in paths.members {
            switch path {
            case listPath: served += collections.map { ("/\($0.config.name)", $0.pathItem(item)) }
            case documentPath: served += collections.map { ("/\($0.config.name)/{id}", $0.pathItem(item)) }
            default: served.append((path, item))
            }
        }
        top["paths"] = .object(JSONObject(served))
        top["tags"] = tags(top["tags"], collections)
        top["info"] = info(top["info"], collections)
        return .object(top)
    }

    /// The generic `documents` tag gives way to one tag per collection.
    static func tags(_ generic: JSON?, _ collections: [CollectionSchemas]) -> JSON {
        var tags: [JSON] = []
        for tag in generic?.arrayValue ?? [] {
            guard tag.objectValue?["name"]?.stringValue == "documents" else {
                tags.append(tag)
                continue
            }
            tags += collections.map { collection in
                .object(
                    JSONObject([
                        ("name", .string(collection.config.name)),
                        ("description", .string("The documents of the `\(collection.config.name)` collection.")),
                    ]))
            }
        }
        return .array(tags)
    }

    static func info(_ generic: JSON?, _ collections: [CollectionSchemas]) -> JSON {
        var info = generic?.objectValue ?? JSONObject()
        info["version"] = .string(Release.version)
        let names = collections.map { "`\($0.config.name)` (`\($0.prefix)Document`)" }.joined(separator: ", ")
        let preface = """
            **This server's collections**: \(names). This document is generated from the \
            config file the server runs with: a path pair and component schemas per \
            collection, where the generic description (the repository's openapi.yaml) has \
            `/{collection}` and `/{collection}/{id}`. It changes when the config is reloaded.


            """
        // In place of the generic file's first paragraph, which says how this one differs.
        var description = info["description"]?.stringValue ?? ""
        if description.hasPrefix("**The generic description.**"), let end = description.range(of: "\n\n") {
            description.removeSubrange(..<end.upperBound)
        }
        info["description"] = .string(preface + description)
        return .object(info)
    }
}
