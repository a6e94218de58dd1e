import DocumentStore

/// One collection as declared in the config file.
public struct CollectionConfig: Sendable {
    public let name: String
    /// Keep `created` and `updated` (RFC 3339 UTC) on every document.
    public let timestamps: Bool
    public let indexes: [FieldPath]
    public let unique: [FieldPath]
    public let schema: Schema
    /// The largest `limit` a list may ask for here (nil: the server's `--max-limit`).
    public let maxLimit: Int?
    /// The top-level field holding the creator's `sub` (set by the server on create,
    /// never changed after).
    public let owner: String?
    /// Who may read, create, update and delete (nil: `user` for each, when auth is on).
    public let access: CollectionAccess?
    /// Its settings as the config file wrote them (what a reload compares).
    public var source: JSON?

    public init(
        name: String, timestamps: Bool = false, indexes: [FieldPath] = [], unique: [FieldPath] = [],
        schema: Schema = .any, maxLimit: Int? = nil, owner: String? = nil, access: CollectionAccess? = nil
    ) {
        self.name = name
        self.timestamps = timestamps
        self.indexes = indexes
        self.unique = unique
        self.schema = schema
        self.maxLimit = maxLimit
        self.owner = owner
        self.access = access
    }

    /// Fields the server keeps itself; a schema does not need to declare them.
    public var serverFields: Set<String> {
        var fields: Set<String> = timestamps ? ["id", "_v", "created", "updated"] : ["id", "_v"]
        if let owner { fields.insert(owner) }
        return fields
    }

    /// What the store needs to know about this collection.
    public var layout: CollectionLayout {
        var scalar: Set<FieldPath> = []
        var types: [FieldPath: CollectionLayout.FieldType] = [:]
        func collect(_ schema: Schema, _ prefix: [String]) {
            for (name, property) in schema.properties {
                let components = prefix + [name]
                guard let path = FieldPath(components.joined(separator: ".")) else { continue }
                if !property.mayBeArray { scalar.insert(path) }
                switch property.types {
                case ["boolean"]?: types[path] = .boolean
                case ["integer"]?, ["number"]?, ["integer", "number"]?: types[path] = .number
                case ["string"]?: types[path] = .string
                default: break
                }
                if property.types == ["object"] { collect(property, components) }
            }
        }
        collect(schema, [])
        for field in ["id", "_v"] { scalar.insert(FieldPath(field)!) }
        // The server writes the owner field, always a string: `read: owner` lists by it.
        if let owner, let path = FieldPath(owner) {
            scalar.insert(path)
            types[path] = .string
        }
        types[FieldPath("id")!] = .string
        types[FieldPath("_v")!] = .number
        if timestamps {
            for field in ["created", "updated"] {
                scalar.insert(FieldPath(field)!)
                types[FieldPath(field)!] = .string
            }
        }
        // `read: owner` lists by the owner field on every request: index it.
        var indexes = self.indexes
        if let owner, let path = FieldPath(owner), !indexes.contains(path) { indexes.append(path) }
        return CollectionLayout(name: name, indexes: indexes, unique: unique, scalarPaths: scalar, fieldTypes: types)
    }
}

/// The whole config file: the collections, in the order they were declared.
public struct AppConfig: Sendable {
    public let collections: [CollectionConfig]
    /// Without it every request is anonymous and allowed.
    public let auth: AuthConfig?
    /// The `auth` block as the config file wrote it (what a reload compares).
    public var authSource: JSON?

    public init(collections: [CollectionConfig], auth: AuthConfig? = nil) {
        self.collections = collections
        self.auth = auth
    }
}
