import DocumentStore
import Foundation

/// A mistake in a config file, with the dotted key it is about.
public struct ConfigError: Error, CustomStringConvertible {
    public let file: String
    public let key: String
    public let message: String

    public init(file: String = "", key: String, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = key.isEmpty ? file : "\(file): \(key)"
        return "\(place): \(message)"
    }

    func inFile(_ file: String) -> ConfigError { ConfigError(file: file, key: key, message: message) }
}

extension Schema {
    /// Parses a schema from its JSON form; `key` is where it sits in the config file.
    static func parse(_ json: JSON, key: String) throws(ConfigError) -> Schema {
        guard case .object(let object) = json else {
            throw ConfigError(key: key, message: "a schema must be a mapping")
        }
        for member in object.members where !keywords.contains(member.key) && !annotations.contains(member.key) {
            throw ConfigError(
                key: "\(key).\(member.key)", message: "unknown schema keyword (supported: \(keywords.sorted().joined(separator: ", ")))")
        }
        var types: Set<String>?
        if let t = object["type"] {
            let names: [String]
            switch t {
            case .string(let s): names = [s]
            case .array(let a) where a.allSatisfy({ $0.stringValue != nil }): names = a.compactMap(\.stringValue)
            default: throw ConfigError(key: "\(key).type", message: "must be a type name or a list of them")
            }
            for name in names where !typeNames.contains(name) {
                throw ConfigError(
                    key: "\(key).type", message: "unknown type '\(name)' (one of \(typeNames.sorted().joined(separator: ", ")))")
            }
            types = Set(names)
        }
        var properties: [(name: String, schema: Schema)] = []
        if let p = object["properties"] {
            guard case .object(let props) = p else {
                throw ConfigError(key: "\(key).properties", message: "must be a mapping of field names to schemas")
            }
            for member in props.members {
                properties.append((member.key, try parse(member.value, key: "\(key).properties.\(member.key)")))
            }
        }
        var required: [String] = []
        if let r = object["required"] {
            guard case .array(let names) = r, names.allSatisfy({ $0.stringValue != nil }) else {
                throw ConfigError(key: "\(key).required", message: "must be a list of field names")
            }
            required = names.compactMap(\.stringValue)
        }
        var additional = AdditionalProperties.allowed
        switch object["additionalProperties"] {
        case nil, .bool(true)?: break
        case .bool(false)?: additional = .forbidden
        case .object?: additional = .schema(try parse(object["additionalProperties"]!, key: "\(key).additionalProperties"))
        default: throw ConfigError(key: "\(key).additionalProperties", message: "must be true, false or a schema")
        }
        var enumeration: [JSON]?
        if let e = object["enum"] {
            guard case .array(let values) = e, !values.isEmpty else {
                throw ConfigError(key: "\(key).enum", message: "must be a non-empty list")
            }
            enumeration = values
        }
        func number(_ name: String) throws(ConfigError) -> Double? {
            guard let v = object[name] else { return nil }
            guard let d = v.numberValue else { throw ConfigError(key: "\(key).\(name)", message: "must be a number") }
            return d
        }
        func count(_ name: String) throws(ConfigError) -> Int? {
            guard let v = object[name] else { return nil }
            guard case .int(let i) = v, i >= 0 else {
                throw ConfigError(key: "\(key).\(name)", message: "must be a non-negative integer")
            }
            return Int(i)
        }
        var pattern: Pattern?
        if let p = object["pattern"] {
            guard let source = p.stringValue, let regex = try? NSRegularExpression(pattern: source) else {
                throw ConfigError(key: "\(key).pattern", message: "must be a valid regular expression")
            }
            pattern = Pattern(source: source, regex: regex)
        }
        var items: Schema?
        if let i = object["items"] { items = try parse(i, key: "\(key).items") }
        var isDateTime = false
        if let f = object["format"] {
            guard f.stringValue == "date-time" else {
                throw ConfigError(key: "\(key).format", message: "only 'date-time' is supported")
            }
            isDateTime = true
        }
        let schema = Schema(
            types: types, properties: properties, required: required, additionalProperties: additional,
            enumeration: enumeration, minimum: try number("minimum"), maximum: try number("maximum"),
            minLength: try count("minLength"), maxLength: try count("maxLength"), pattern: pattern,
            items: items, defaultValue: object["default"], isDateTime: isDateTime)
        if let d = schema.defaultValue {
            let issues = SchemaValidator.validate(d, against: schema)
            if let first = issues.first {
                throw ConfigError(
                    key: "\(key).default",
                    message: "the default itself is invalid: \(first.path.isEmpty ? "" : first.path + " ")\(first.message)")
            }
        }
        return schema
    }
}
