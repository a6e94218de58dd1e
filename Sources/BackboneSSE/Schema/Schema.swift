import DocumentStore
import Foundation

/// The JSON Schema subset a collection's documents are checked against:
/// type, properties, required, additionalProperties, enum, minimum, maximum,
/// minLength, maxLength, pattern, items, default and format date-time.
public final class Schema: Sendable {
    public let types: Set<String>?
    public let properties: [(name: String, schema: Schema)]
    public let required: [String]
    public let additionalProperties: AdditionalProperties
    public let enumeration: [JSON]?
    public let minimum: Double?
    public let maximum: Double?
    public let minLength: Int?
    public let maxLength: Int?
    public let pattern: Pattern?
    public let items: Schema?
    public let defaultValue: JSON?
    public let isDateTime: Bool

    public enum AdditionalProperties: Sendable {
        case allowed
        case forbidden
        case schema(Schema)
    }

    /// A compiled `pattern`, searched (not anchored), as JSON Schema says.
    public struct Pattern: @unchecked Sendable {
        // NSRegularExpression is immutable and documented thread-safe.
        let source: String
        let regex: NSRegularExpression

        func matches(_ s: String) -> Bool {
            regex.firstMatch(in: s, range: NSRange(s.startIndex..., in: s)) != nil
        }
    }

    /// Keywords taken but not enforced: annotations.
    static let annotations: Set<String> = ["title", "description", "$comment", "examples", "$schema", "readOnly"]
    static let keywords: Set<String> = [
        "type", "properties", "required", "additionalProperties", "enum", "minimum", "maximum",
        "minLength", "maxLength", "pattern", "items", "default", "format",
    ]
    static let typeNames: Set<String> = ["string", "number", "integer", "boolean", "object", "array", "null"]

    /// An empty schema: anything goes.
    public static let any = Schema()

    init(
        types: Set<String>? = nil, properties: [(name: String, schema: Schema)] = [], required: [String] = [],
        additionalProperties: AdditionalProperties = .allowed, enumeration: [JSON]? = nil,
        minimum: Double? = nil, maximum: Double? = nil, minLength: Int? = nil, maxLength: Int? = nil,
        pattern: Pattern? = nil, items: Schema? = nil, defaultValue: JSON? = nil, isDateTime: Bool = false
    ) {
        self.types = types
        self.properties = properties
        self.required = required
        self.additionalProperties = additionalProperties
        self.enumeration = enumeration
        self.minimum = minimum
        self.maximum = maximum
        self.minLength = minLength
        self.maxLength = maxLength
        self.pattern = pattern
        self.items = items
        self.defaultValue = defaultValue
        self.isDateTime = isDateTime
    }

    public func property(_ name: String) -> Schema? {
        properties.first { $0.name == name }?.schema
    }

    /// The schema of a dotted path, following `properties` (and `items` for arrays).
    public func schema(at path: FieldPath) -> Schema? {
        var current: Schema = self
        for component in path.components {
            if let next = current.property(component) {
                current = next
            } else if let items = current.items, let next = items.property(component) {
                current = next
            } else {
                return nil
            }
        }
        return current
    }

    /// Can a value at this schema be an array? Unknown (nil types) means yes.
    public var mayBeArray: Bool {
        guard let types else { return true }
        return types.contains("array")
    }
}
