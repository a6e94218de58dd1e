/// The filter evaluated on a document in memory, for filtered streams. Same semantics
/// as the stores: MongoDB's array and missing-field rules, comparisons only within a
/// type, strings ordered by their UTF-8 bytes (SQLite's BINARY collation).
extension Filter {
    public func matches(_ document: JSONObject) -> Bool {
        switch self {
        case .all:
            return true
        case .and(let parts):
            return parts.allSatisfy { $0.matches(document) }
        case .or(let parts):
            return parts.contains { $0.matches(document) }
        case .compare(let path, .ne, let operand):
            return !Self.anyValue(path.lookup(in: document)) { Self.equal($0, operand) }
        case .compare(let path, let op, let operand):
            return Self.anyValue(path.lookup(in: document)) { Self.compare($0, op, operand) }
        case .isIn(let path, let operands):
            let value = path.lookup(in: document)
            return operands.contains { operand in Self.anyValue(value) { Self.equal($0, operand) } }
        case .notIn(let path, let operands):
            let value = path.lookup(in: document)
            return !operands.contains { operand in Self.anyValue(value) { Self.equal($0, operand) } }
        case .exists(let path, let present):
            return (path.lookup(in: document) != nil) == present
        }
    }

    /// The condition holds for the value itself, or for one element of an array.
    private static func anyValue(_ value: JSON?, _ condition: (JSON?) -> Bool) -> Bool {
        if condition(value) { return true }
        if case .array(let elements)? = value { return elements.contains { condition($0) } }
        return false
    }

    private static func equal(_ value: JSON?, _ operand: JSON) -> Bool {
        guard let value else { return operand == .null }
        if case .null = operand { return value == .null }
        return value == operand
    }

    private static func compare(_ value: JSON?, _ op: Comparison, _ operand: JSON) -> Bool {
        if op == .eq { return equal(value, operand) }
        guard let value else { return false }
        let order: Int
        if let numbers = JSON.compareNumbers(value, operand) {
            order = numbers
        } else if case .string(let a) = value, case .string(let b) = operand {
            order = a.utf8.lexicographicallyPrecedes(b.utf8) ? -1 : (a.sameCodeUnits(as: b) ? 0 : 1)
        } else {
            return false
        }
        switch op {
        case .gt: return order > 0
        case .gte: return order >= 0
        case .lt: return order < 0
        case .lte: return order <= 0
        case .eq, .ne: return false
        }
    }
}

extension FieldPath {
    /// The value at this path, through nested objects.
    public func lookup(in document: JSONObject) -> JSON? {
        var current: JSON = .object(document)
        for component in components {
            guard case .object(let object) = current, let next = object[component] else { return nil }
            current = next
        }
        return current
    }
}
