import DocumentStore
import Foundation
import Yams

/// Reads the config file (YAML, or JSON) of DESIGN.md §3. Every mistake is reported
/// with the file and the dotted key it is about.
public enum ConfigLoader {
    /// Names that are routes of their own and cannot be collections.
    public static var reservedNames: Set<String> { Routes.reservedNames }

    public static func load(
        path: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(ConfigError)
        -> AppConfig
    {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, key: "", message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, key: "", message: "is not UTF-8 text")
        }
        do {
            let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
            return try parse(text, json: path.hasSuffix(".json"), context: ConfigContext(environment: environment, directory: directory))
        } catch {
            throw error.inFile(path)
        }
    }

    public static func parse(
        _ text: String, json: Bool = false, context: ConfigContext = ConfigContext()
    ) throws(ConfigError)
        -> AppConfig
    {
        let root: JSON
        if json {
            do { root = try JSONParser.parse(text) } catch {
                throw ConfigError(key: "", message: "invalid JSON: \(error)")
            }
        } else {
            do {
                root = try YAMLConversion.parse(text)
            } catch let error as ConfigError {
                throw error
            } catch {
                throw ConfigError(key: "", message: "invalid YAML: \(error)")
            }
        }
        return try build(root, context: context)
    }

    static func build(_ root: JSON, context: ConfigContext = ConfigContext()) throws(ConfigError) -> AppConfig {
        guard case .object(let top) = root else { throw ConfigError(key: "", message: "must be a mapping with a 'collections' key") }
        for key in top.keys where key != "collections" && key != "auth" {
            throw ConfigError(key: key, message: "unknown key (expected 'collections' or 'auth')")
        }
        guard case .object(let declared)? = top["collections"] else {
            throw ConfigError(key: "collections", message: "must be a mapping of collection names to their settings")
        }
        guard !declared.isEmpty else { throw ConfigError(key: "collections", message: "declares no collection") }
        var collections: [CollectionConfig] = []
        for (name, settings) in declared.members {
            var parsed = try collection(name, settings)
            parsed.source = settings
            collections.append(parsed)
        }
        let auth = try top["auth"].map { (a) throws(ConfigError) in try AuthConfigLoader.auth(a, context: context) }
        try AuthConfigLoader.check(collections, declared: declared, auth: auth)
        var config = AppConfig(collections: collections, auth: auth)
        config.authSource = top["auth"]
        return config
    }

    static let collectionKeys: Set<String> = ["timestamps", "indexes", "unique", "schema", "maxLimit", "owner", "access"]

    static func collection(_ name: String, _ settings: JSON) throws(ConfigError) -> CollectionConfig {
        let key = "collections.\(name)"
        guard isValidName(name) else {
            throw ConfigError(key: key, message: "a collection name must match ^[a-z][a-z0-9_-]{0,63}$")
        }
        guard !reservedNames.contains(name) else { throw ConfigError(key: key, message: "'\(name)' is a reserved name") }
        let object: JSONObject
        switch settings {
        case .object(let o): object = o
        case .null: object = JSONObject()
        default: throw ConfigError(key: key, message: "must be a mapping")
        }
        for k in object.keys where !collectionKeys.contains(k) {
            throw ConfigError(key: "\(key).\(k)", message: "unknown key (one of \(collectionKeys.sorted().joined(separator: ", ")))")
        }
        var timestamps = false
        if let t = object["timestamps"] {
            guard case .bool(let b) = t else { throw ConfigError(key: "\(key).timestamps", message: "must be true or false") }
            timestamps = b
        }
        func paths(_ field: String) throws(ConfigError) -> [FieldPath] {
            guard let v = object[field] else { return [] }
            guard case .array(let items) = v else { throw ConfigError(key: "\(key).\(field)", message: "must be a list of field paths") }
            var out: [FieldPath] = []
            for (i, item) in items.enumerated() {
                guard let s = item.stringValue, let path = FieldPath(s) else {
                    throw ConfigError(key: "\(key).\(field)[\(i)]", message: "must be a field path like 'done' or 'owner.name'")
                }
                out.append(path)
            }
            return out
        }
        let schema = try object["schema"].map { (s) throws(ConfigError) in try Schema.parse(s, key: "\(key).schema") } ?? .any
        if let types = schema.types, types != ["object"] {
            throw ConfigError(key: "\(key).schema.type", message: "a document schema must have type 'object'")
        }
        var maxLimit: Int?
        if let m = object["maxLimit"] {
            guard case .int(let i) = m, i > 0 else { throw ConfigError(key: "\(key).maxLimit", message: "must be a positive integer") }
            maxLimit = Int(i)
        }
        let unique = try paths("unique")
        // `id` is unique already; `_v` is a version number, the same in many documents.
        if let i = unique.firstIndex(where: { $0.components == ["id"] || $0.components == ["_v"] }) {
            throw ConfigError(key: "\(key).unique[\(i)]", message: "cannot be id (always unique) or _v (a version number)")
        }
        return CollectionConfig(
            name: name, timestamps: timestamps, indexes: try paths("indexes"), unique: unique,
            schema: schema, maxLimit: maxLimit, owner: try AuthConfigLoader.owner(object["owner"], key: "\(key).owner"),
            access: try object["access"].map { (a) throws(ConfigError) in try AuthConfigLoader.access(a, key: "\(key).access") })
    }

    public static func isValidName(_ name: String) -> Bool {
        let b = Array(name.utf8)
        guard let first = b.first, b.count <= 64, first >= 0x61, first <= 0x7A else { return false }
        return b.allSatisfy {
            ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-")
        }
    }
}

/// YAML nodes to JSON values, keeping mapping order. Plain scalars are typed by the
/// YAML 1.2 core schema (`true`, `null`, `12`, `1.5`; `yes`, `no` and `off` stay
/// strings), here in Swift: Yams' default resolver types them by YAML 1.1 with a dozen
/// NSRegularExpressions, whose ICU tables then stay in memory (2.5 MB of RSS).
enum YAMLConversion {
    /// A YAML document as JSON (Yams' errors pass through).
    static func parse(_ text: String) throws -> JSON {
        guard let node = try Yams.compose(yaml: text, .basic) else {
            throw ConfigError(key: "", message: "is empty")
        }
        return try json(from: node, key: "")
    }

    static func json(from node: Node, key: String) throws(ConfigError) -> JSON {
        switch node {
        case .scalar(let scalar):
            let text = scalar.string
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .null, .bool, .int, .float:
                // An explicit tag (`!!int 3`): the text must be of that type.
                guard let value = coreSchemaValue(text), value.typeTag == Tag.Name(rawValue: node.tag.rawValue) else {
                    throw ConfigError(key: key, message: "\(text) is not a valid \(node.tag.rawValue)")
                }
                return value
            default:
                guard scalar.style == .plain, scalar.tag.rawValue == Tag.Name.str.rawValue || scalar.tag.rawValue.isEmpty else {
                    return .string(text)
                }
                if let value = coreSchemaValue(text) { return value }
                if isIntegerText(text) || isFloatText(text) { throw ConfigError(key: key, message: "number out of range") }
                return .string(text)
            }
        case .mapping(let mapping):
            var members: [(key: String, value: JSON)] = []
            for (k, v) in mapping {
                guard case .scalar(let name) = k else { throw ConfigError(key: key, message: "keys must be plain names") }
                let child = key.isEmpty ? name.string : "\(key).\(name.string)"
                if members.contains(where: { $0.key == name.string }) {
                    throw ConfigError(key: child, message: "is given twice")
                }
                members.append((name.string, try json(from: v, key: child)))
            }
            return .object(JSONObject(members))
        case .sequence(let sequence):
            var items: [JSON] = []
            for (i, v) in sequence.enumerated() { items.append(try json(from: v, key: "\(key)[\(i)]")) }
            return .array(items)
        case .alias:
            throw ConfigError(key: key, message: "YAML aliases are not supported")
        }
    }

    /// A plain scalar's value by the YAML 1.2 core schema; nil for a string.
    static func coreSchemaValue(_ text: String) -> JSON? {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: break
        }
        if text.hasPrefix("0x"), let i = Int64(text.dropFirst(2), radix: 16) { return .int(i) }
        if text.hasPrefix("0o"), let i = Int64(text.dropFirst(2), radix: 8) { return .int(i) }
        if isIntegerText(text) { return Int64(text).map { .int($0) } }
        if isFloatText(text), let d = Double(text), d.isFinite { return .double(d) }
        return nil
    }

    /// `[-+]?[0-9]+`
    static func isIntegerText(_ text: String) -> Bool {
        var digits = Substring(text)
        if digits.first == "-" || digits.first == "+" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    static func isFloatText(_ text: String) -> Bool {
        var rest = Substring(text).utf8[...]
        func digits() -> Int {
            let n = rest.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            rest = rest.dropFirst(n)
            return n
        }
        if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
        let whole = digits()
        var fraction = 0
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            fraction = digits()
        }
        guard whole > 0 || fraction > 0 else { return false }
        if rest.first == UInt8(ascii: "e") || rest.first == UInt8(ascii: "E") {
            rest = rest.dropFirst()
            if rest.first == UInt8(ascii: "-") || rest.first == UInt8(ascii: "+") { rest = rest.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return rest.isEmpty
    }
}

extension JSON {
    /// The YAML tag of a core-schema value.
    fileprivate var typeTag: Tag.Name {
        switch self {
        case .null: return .null
        case .bool: return .bool
        case .int: return .int
        case .double: return .float
        default: return .str
        }
    }
}
