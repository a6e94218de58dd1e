import DocumentStore

/// Reads a `where` object into the store-neutral `Filter`. Only the operators of
/// DESIGN.md §1 are known; any other `$` name is a 400, so nothing a client writes
/// reaches a store as an operator.
///
/// With `fromQueryString`, leaf strings came from a query string and are typed by the
/// collection's schema (`done=false` is the boolean when `done` is a boolean). A JSON
/// `where` keeps its own JSON types.
struct FilterParser {
    let schema: Schema
    let fromQueryString: Bool

    static let operators: Set<String> = ["$eq", "$ne", "$gt", "$gte", "$lt", "$lte", "$in", "$nin", "$exists", "$and", "$or"]

    func parse(_ object: JSONObject, depth: Int = 0) throws(APIError) -> Filter {
        guard depth < 16 else { throw .badRequest("the filter is nested too deeply", code: "bad_query") }
        var parts: [Filter] = []
        for (key, value) in object.members {
            if key.hasPrefix("$") {
                guard key == "$and" || key == "$or" else { throw unknownOperator(key) }
                guard case .array(let items) = value, !items.isEmpty else {
                    throw .badRequest("\(key) takes a non-empty list of conditions", code: "bad_query")
                }
                var subfilters: [Filter] = []
                for item in items {
                    guard case .object(let o) = item else {
                        throw .badRequest("each condition of \(key) must be an object", code: "bad_query")
                    }
                    subfilters.append(try parse(o, depth: depth + 1))
                }
                parts.append(key == "$and" ? .and(subfilters) : .or(subfilters))
            } else {
                guard let path = FieldPath(key) else {
                    throw .badRequest("'\(key)' is not a valid field path", code: "bad_query")
                }
                parts.append(try condition(path, value))
            }
        }
        if parts.count == 1 { return parts[0] }
        return parts.isEmpty ? .all : .and(parts)
    }

    private func unknownOperator(_ name: String) -> APIError {
        .badRequest("unknown operator \(name) (allowed: \(Self.operators.sorted().joined(separator: " ")))", code: "bad_query")
    }

    private func condition(_ path: FieldPath, _ value: JSON) throws(APIError) -> Filter {
        // A store compares text as C strings (SQLite binds and extracts it so): "a\u0000b"
        // would match "a". Refused, so that a list and a stream never disagree.
        if Self.holdsNUL(value) {
            throw .badRequest("a value on \(path) contains a NUL character (\\u0000)", code: "bad_query")
        }
        guard case .object(let ops) = value, ops.keys.contains(where: { $0.hasPrefix("$") }) else {
            if let loose = looseCandidates(value, at: path) { return .isIn(path, loose) }
            return .compare(path, .eq, try typed(value, at: path))
        }
        var parts: [Filter] = []
        for (op, operand) in ops.members {
            switch op {
            case "$eq", "$ne", "$gt", "$gte", "$lt", "$lte":
                let comparison = Filter.Comparison(rawValue: String(op.dropFirst()))!
                if comparison == .eq || comparison == .ne, let loose = looseCandidates(operand, at: path) {
                    parts.append(comparison == .eq ? .isIn(path, loose) : .notIn(path, loose))
                    continue
                }
                var v = try typed(operand, at: path)
                if fromQueryString, case .string(let s) = operand, fieldSchema(path)?.types == nil {
                    // An untyped field: a number-looking bound compares as a number.
                    if let i = Int64(s) { v = .int(i) } else if let d = Double(s), d.isFinite { v = .double(d) }
                }
                if comparison != .eq && comparison != .ne {
                    guard v.isNumber || v.stringValue != nil else {
                        throw .badRequest("\(op) on \(path) takes a number or a string", code: "bad_query")
                    }
                }
                parts.append(.compare(path, comparison, v))
            case "$in", "$nin":
                guard case .array(let items) = operand else {
                    throw .badRequest("\(op) on \(path) takes a list", code: "bad_query")
                }
                var values: [JSON] = []
                for item in items {
                    if let loose = looseCandidates(item, at: path) { values += loose } else { values.append(try typed(item, at: path)) }
                }
                parts.append(op == "$in" ? .isIn(path, values) : .notIn(path, values))
            case "$exists":
                parts.append(.exists(path, try flag(operand, op: op)))
            default:
                if op.hasPrefix("$") { throw unknownOperator(op) }
                throw .badRequest("'\(path)' mixes operators and plain fields", code: "bad_query")
            }
        }
        return parts.count == 1 ? parts[0] : .and(parts)
    }

    private func flag(_ value: JSON, op: String) throws(APIError) -> Bool {
        switch value {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        case .string(let s) where fromQueryString:
            switch s {
            case "true", "1": return true
            case "false", "0": return false
            default: break
            }
        default: break
        }
        throw .badRequest("\(op) takes true or false", code: "bad_query")
    }

    /// A query-string value typed by the schema of its field; JSON values as they are.
    /// A value never holds a `$` name, even deep inside: what a client sends as a value
    /// must not be readable by any store as an operator.
    private func typed(_ value: JSON, at path: FieldPath) throws(APIError) -> JSON {
        if let name = Self.operatorName(in: value) {
            throw .badRequest("a value may not contain the name \(name)", code: "bad_query")
        }
        guard fromQueryString else { return value }
        switch value {
        case .string(let s):
            return try QueryValue.typed(s, schema: fieldSchema(path), field: path)
        case .array(let items):
            var out: [JSON] = []
            for item in items { out.append(try typed(item, at: path)) }
            return .array(out)
        case .object(let o):
            var out = JSONObject()
            for (k, v) in o.members {
                guard let sub = FieldPath("\(path).\(k)") else { throw .badRequest("'\(k)' is not a valid field name", code: "bad_query") }
                out[k] = try typed(v, at: sub)
            }
            return .object(out)
        default:
            return value
        }
    }

    /// Does a string anywhere in `value` hold U+0000?
    static func holdsNUL(_ value: JSON) -> Bool {
        switch value {
        case .string(let s): return s.utf8.contains(0)
        case .array(let items): return items.contains(where: holdsNUL)
        case .object(let o): return o.members.contains { $0.key.utf8.contains(0) || holdsNUL($0.value) }
        default: return false
        }
    }

    static func operatorName(in value: JSON) -> String? {
        switch value {
        case .object(let o):
            for member in o.members {
                if member.key.hasPrefix("$") { return member.key }
                if let inner = operatorName(in: member.value) { return inner }
            }
            return nil
        case .array(let items):
            for item in items { if let inner = operatorName(in: item) { return inner } }
            return nil
        default:
            return nil
        }
    }

    /// A query-string value for a field the schema gives no type: it matches the string
    /// itself or the JSON literal it spells (`2`, `true`, `null`), so `?order=2` finds
    /// a stored 2 in a collection without a schema. Nil when typing is not loose.
    private func looseCandidates(_ value: JSON, at path: FieldPath) -> [JSON]? {
        guard fromQueryString, case .string(let s) = value, fieldSchema(path)?.types == nil else { return nil }
        var candidates: [JSON] = [.string(s)]
        switch s {
        case "true": candidates.append(.bool(true))
        case "false": candidates.append(.bool(false))
        case "null": candidates.append(.null)
        default:
            if let i = Int64(s) {
                candidates.append(.int(i))
            } else if let d = Double(s), d.isFinite, s.first != "." {
                candidates.append(.double(d))
            }
        }
        return candidates.count == 1 ? nil : candidates
    }

    /// The schema a value at `path` is compared with: for an array field, its items.
    private func fieldSchema(_ path: FieldPath) -> Schema? {
        if path.components == ["_v"] { return Schema(types: ["integer"]) }
        if path.components == ["id"] { return Schema(types: ["string"]) }
        guard let s = schema.schema(at: path) else { return nil }
        if let types = s.types, types.contains("array"), let items = s.items { return items }
        return s
    }
}

/// Typing of one query-string value by a schema.
enum QueryValue {
    static func typed(_ s: String, schema: Schema?, field: FieldPath) throws(APIError) -> JSON {
        guard let types = schema?.types else { return .string(s) }
        if types.contains("null"), s == "null" { return .null }
        if types.contains("boolean") {
            if s == "true" { return .bool(true) }
            if s == "false" { return .bool(false) }
        }
        if types.contains("integer") || types.contains("number"), let i = Int64(s) { return .int(i) }
        if types.contains("number"), let d = Double(s), d.isFinite { return .double(d) }
        if types.contains("string") { return .string(s) }
        throw .badRequest("'\(s)' is not a valid \(types.sorted().joined(separator: " or ")) for \(field)", code: "bad_query")
    }
}
