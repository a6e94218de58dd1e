import DocumentStore
import Foundation

/// One reason a document does not fit its schema: a JSON Pointer and a message.
public struct ValidationIssue: Sendable, Equatable {
    public let path: String
    public let message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }
}

/// Checks a value against a `Schema`, collecting every issue (not just the first).
public enum SchemaValidator {
    public static func validate(_ value: JSON, against schema: Schema, at path: String = "") -> [ValidationIssue] {
        var issues: [ValidationIssue] = []
        check(value, schema, path, &issues)
        return issues
    }

    /// Fills in `default`s of missing properties, recursively through nested objects.
    public static func applyDefaults(_ object: inout JSONObject, schema: Schema) {
        for (name, property) in schema.properties {
            if object[name] == nil, let d = property.defaultValue {
                object[name] = d
            }
            if case .object(var nested)? = object[name], !property.properties.isEmpty {
                applyDefaults(&nested, schema: property)
                object[name] = .object(nested)
            }
        }
    }

    private static func check(_ value: JSON, _ schema: Schema, _ path: String, _ issues: inout [ValidationIssue]) {
        if let types = schema.types, !matchesType(value, types) {
            issues.append(
                ValidationIssue(path: path, message: "must be \(types.sorted().joined(separator: " or ")), not \(describe(value))"))
            return
        }
        if let options = schema.enumeration, !options.contains(value) {
            issues.append(ValidationIssue(path: path, message: "must be one of \(JSON.array(options).serialized)"))
        }
        switch value {
        case .int, .double:
            let n = value.numberValue!
            if let min = schema.minimum, n < min { issues.append(ValidationIssue(path: path, message: "must be at least \(format(min))")) }
            if let max = schema.maximum, n > max { issues.append(ValidationIssue(path: path, message: "must be at most \(format(max))")) }
        case .string(let s):
            // Code points, counted only when the byte count cannot decide (a code point
            // is 1 to 4 bytes): counting them walks the string.
            let bytes = s.utf8.count
            let undecided =
                (schema.minLength.map { bytes >= $0 && bytes < 4 * $0 } ?? false) || (schema.maxLength.map { bytes > $0 } ?? false)
            let length = undecided ? s.unicodeScalars.count : bytes
            if let min = schema.minLength, length < min {
                issues.append(
                    ValidationIssue(path: path, message: min == 1 ? "must not be empty" : "must be at least \(min) characters long"))
            }
            if let max = schema.maxLength, length > max {
                issues.append(ValidationIssue(path: path, message: "must be at most \(max) characters long"))
            }
            if let pattern = schema.pattern, !pattern.matches(s) {
                issues.append(ValidationIssue(path: path, message: "must match the pattern \(pattern.source)"))
            }
            if schema.isDateTime, !DateTime.isValid(s) {
                issues.append(ValidationIssue(path: path, message: "must be an RFC 3339 date-time"))
            }
        case .array(let elements):
            if let items = schema.items {
                for (i, element) in elements.enumerated() { check(element, items, "\(path)/\(i)", &issues) }
            }
        case .object(let object):
            for name in schema.required where object[name] == nil {
                issues.append(ValidationIssue(path: "\(path)/\(pointerEscape(name))", message: "is required"))
            }
            for member in object.members {
                let memberPath = "\(path)/\(pointerEscape(member.key))"
                if let property = schema.property(member.key) {
                    check(member.value, property, memberPath, &issues)
                } else {
                    switch schema.additionalProperties {
                    case .allowed: break
                    case .forbidden: issues.append(ValidationIssue(path: memberPath, message: "is not an allowed field"))
                    case .schema(let s): check(member.value, s, memberPath, &issues)
                    }
                }
            }
        case .null, .bool:
            break
        }
    }

    static func matchesType(_ value: JSON, _ types: Set<String>) -> Bool {
        switch value {
        case .null: return types.contains("null")
        case .bool: return types.contains("boolean")
        case .int: return types.contains("integer") || types.contains("number")
        case .double(let d):
            return types.contains("number") || (types.contains("integer") && d == d.rounded() && abs(d) < 9e15)
        case .string: return types.contains("string")
        case .array: return types.contains("array")
        case .object: return types.contains("object")
        }
    }

    private static func describe(_ value: JSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    private static func format(_ d: Double) -> String {
        d == d.rounded() && abs(d) < 1e15 ? String(Int64(d)) : String(d)
    }

    static func pointerEscape(_ s: String) -> String {
        // The common case without Foundation's replacingOccurrences (seen in profiles).
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "~") || $0 == UInt8(ascii: "/") }) else { return s }
        return s.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
