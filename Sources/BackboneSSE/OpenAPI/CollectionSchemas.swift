import DocumentStore

/// One collection's part of the served OpenAPI document: its component schemas (the
/// stored document, the body of a create or replace, the body of a patch), its request
/// bodies, and its two path items, made from the generic `/{collection}` ones.
struct CollectionSchemas {
    let config: CollectionConfig
    /// `Todos` for `todos`: the start of its component names and operation ids.
    let prefix: String
    /// With an `auth` block, a write's answer to a caller who may not read the document
    /// is its `id` and `_v` only (`CollectionService.shown`).
    var authenticated = false

    /// Each collection with a prefix of its own (`to-do` and `to_do` would both be `ToDo`).
    static func named(_ collections: [CollectionConfig], authenticated: Bool) -> [CollectionSchemas] {
        var taken: Set<String> = []
        return collections.map { collection in
            let base = collection.name.split(whereSeparator: { $0 == "_" || $0 == "-" })
                .map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
            var prefix = base
            var n = 2
            while !taken.insert(prefix).inserted {
                prefix = "\(base)\(n)"
                n += 1
            }
            return CollectionSchemas(config: collection, prefix: prefix, authenticated: authenticated)
        }
    }

    /// The schema as the config file wrote it, else as parsed (a config built in code).
    var configured: JSONObject {
        config.source?.objectValue?["schema"]?.objectValue ?? config.schema.jsonSchema.objectValue ?? JSONObject()
    }

    /// `<Prefix>Document`, `<Prefix>Write` and `<Prefix>Patch`; the server fields' own
    /// schemas are the generic `Document`'s and `DocumentInput`'s.
    func schemas(generic: JSONObject) -> [(String, JSON)] {
        let stored = generic["Document"]?.objectValue?["properties"]?.objectValue ?? JSONObject()
        let input = generic["DocumentInput"]?.objectValue ?? JSONObject()
        let inputFields = input["properties"]?.objectValue ?? JSONObject()
        let own = configured["properties"]?.objectValue ?? JSONObject()
        let required = configured["required"]?.arrayValue?.compactMap(\.stringValue) ?? []
        let server = config.serverFields

        var document = configured
        var properties: [(key: String, value: JSON)] = [("id", stored["id"] ?? .object(JSONObject()))]
        properties += own.members.filter { !server.contains($0.key) }
        properties.append(("_v", stored["_v"] ?? .object(JSONObject())))
        if config.timestamps {
            for field in ["created", "updated"] { properties.append((field, stored[field] ?? .object(JSONObject()))) }
        }
        if let owner = config.owner {
            let description = "The creator's `sub`, set by the server on create (the collection's `owner` field)."
            properties.append((owner, .object(JSONObject([("type", .string("string")), ("description", .string(description))]))))
        }
        document["type"] = .string("object")
        document["properties"] = .object(JSONObject(properties))
        document["required"] = .array((["id", "_v"] + required.filter { !["id", "_v"].contains($0) }).map(JSON.string))
        if document["description"] == nil {
            document["description"] = .string(
                "A document of `\(config.name)` as stored: its schema in the config file, with the server's fields.")
        }

        // A body: the server's fields are not required (a field with a default is
        // filled in before validation), `created`, `updated` and the owner not listed.
        var write = configured
        var writeProperties: [(key: String, value: JSON)] = [("id", inputFields["id"] ?? .object(JSONObject()))]
        writeProperties += own.members.filter { !server.contains($0.key) }
        writeProperties.append(("_v", inputFields["_v"] ?? .object(JSONObject())))
        write["type"] = .string("object")
        write["properties"] = .object(JSONObject(writeProperties))
        if let names = input["propertyNames"] { write["propertyNames"] = names }
        let defaulted = Set(own.members.filter { $0.value.objectValue?["default"] != nil }.map(\.key))
        let needed = required.filter { !server.contains($0) && !defaulted.contains($0) }
        write["required"] = needed.isEmpty ? nil : .array(needed.map(JSON.string))
        write["description"] = .string(
            "The attributes of a `\(config.name)` document to create or replace, checked against its schema after its defaults are filled in."
        )
        var patch = write
        patch["required"] = nil
        patch["description"] = .string(
            "Attributes to merge into a `\(config.name)` document (each replaces the stored one); the result is checked against its schema."
        )
        return [("\(prefix)Document", .object(document)), ("\(prefix)Write", .object(write)), ("\(prefix)Patch", .object(patch))]
    }

    /// The generic `Document` request body, its JSON schema this collection's.
    func requestBody(_ generic: JSON, schema: String) -> JSON {
        guard var body = generic.objectValue, var content = body["content"]?.objectValue,
            var json = content["application/json"]?.objectValue
        else { return generic }
        json["schema"] = Self.ref("schemas/\(schema)")
        _ = json.removeValue(forKey: "example")
        content["application/json"] = .object(json)
        body["content"] = .object(content)
        return .object(body)
    }

    /// A generic path item made this collection's: no `collection` parameter, the
    /// collection's tag, operation ids, request bodies and document schema.
    func pathItem(_ generic: JSON) -> JSON {
        guard var item = generic.objectValue else { return generic }
        let collectionParameter = Self.ref("parameters/collection")
        if let parameters = item["parameters"]?.arrayValue {
            let kept = parameters.filter { $0 != collectionParameter }
            item["parameters"] = kept.isEmpty ? nil : .array(kept)
        }
        let genericBody = Self.ref("requestBodies/Document")
        for (method, value) in item.members {
            guard var operation = value.objectValue, operation["responses"] != nil else { continue }
            operation["tags"] = .array([.string(config.name)])
            if let id = operation["operationId"]?.stringValue {
                operation["operationId"] = .string(id.replacingOccurrences(of: "Document", with: "\(prefix)Document"))
            }
            if method == "get", var parameters = operation["parameters"]?.arrayValue, parameters.contains(Self.ref("parameters/equality")) {
                parameters += equalityParameters
                operation["parameters"] = .array(parameters)
            }
            if operation["requestBody"] == genericBody {
                operation["requestBody"] = Self.ref("requestBodies/\(prefix)\(method == "patch" ? "Patch" : "Write")")
            }
            if let responses = operation["responses"] {
                let written = ["post", "put", "patch"].contains(method) && authenticated
                operation["responses"] = Self.replacing(
                    Self.ref("schemas/Document"), with: written ? writeAnswer : Self.ref("schemas/\(prefix)Document"), in: responses)
            }
            item[method] = .object(operation)
        }
        return .object(item)
    }

    /// The equality parameters of the schema's top-level fields of one scalar type (or
    /// arrays of one: a value matches an element), typed as the server types them; the
    /// generic `fields` parameter still takes any field path and the bracket forms.
    var equalityParameters: [JSON] {
        let scalars: Set<String> = ["string", "integer", "number", "boolean"]
        var parameters: [JSON] = []
        for (name, property) in config.schema.properties {
            guard FieldPath(name) != nil, !ListQueryParser.reserved.contains(name), name != "fields",
                !config.serverFields.contains(name)
            else { continue }
            let types = property.types == ["array"] ? property.items?.types : property.types
            guard let types, types.count == 1, let type = types.first, scalars.contains(type) else { continue }
            let description = "Equality on `\(name)` (see `fields`)\(property.types == ["array"] ? ": an element of it" : "")."
            parameters.append(
                .object(
                    JSONObject([
                        ("name", .string(name)), ("in", .string("query")), ("description", .string(description)),
                        ("schema", .object(JSONObject([("type", .string(type))]))),
                    ])))
        }
        return parameters
    }

    /// A write's answer with auth on: the document, or only its id and version.
    var writeAnswer: JSON {
        let stub = JSONObject([
            ("type", .string("object")),
            ("description", .string("What a caller who may write the document but not read it is shown.")),
            ("required", .array([.string("id"), .string("_v")])),
            (
                "properties",
                .object(
                    JSONObject([
                        ("id", .object(JSONObject([("type", .string("string"))]))),
                        ("_v", .object(JSONObject([("type", .string("integer"))]))),
                    ]))
            ),
            ("additionalProperties", .bool(false)),
        ])
        return .object(JSONObject([("anyOf", .array([Self.ref("schemas/\(prefix)Document"), .object(stub)]))]))
    }

    static func ref(_ component: String) -> JSON {
        .object(JSONObject([("$ref", .string("#/components/\(component)"))]))
    }

    /// `value` with every occurrence of `old` (at any depth) replaced by `new`.
    static func replacing(_ old: JSON, with new: JSON, in value: JSON) -> JSON {
        if value == old { return new }
        switch value {
        case .array(let items): return .array(items.map { replacing(old, with: new, in: $0) })
        case .object(let object):
            return .object(JSONObject(object.members.map { ($0.key, replacing(old, with: new, in: $0.value)) }))
        default: return value
        }
    }
}
