import DocumentStore
import GRDB

/// A piece of SQL with its bound arguments.
struct SQLFragment {
    var sql: String
    var arguments: [DatabaseValue]

    init(_ sql: String, _ arguments: [DatabaseValue] = []) {
        self.sql = sql
        self.arguments = arguments
    }
}

extension StatementArguments {
    /// GRDB's initializer for a sequence of values maps it through a key path, which the
    /// Swift runtime instantiates on every call (a visible share of a filtered list's
    /// CPU: bench/NOTES.md#filter); the one for optional existentials does not.
    init(values: [DatabaseValue]) {
        self.init(values.map { $0 as (any DatabaseValueConvertible)? })
    }
}

/// Translates the store-neutral filter tree to SQL over `json_extract`. Field paths are
/// inlined as literals (so that an expression index on the same path can serve the
/// query); they are safe to inline because `FieldPath` admits only `[A-Za-z0-9_-]`
/// components. Every value is a bound parameter.
///
/// Comparisons carry a type guard: SQLite orders all numbers before all text and turns
/// JSON `true` into 1, where MongoDB compares only within a type. The guards make
/// `{"priority": {"$gt": 2}}` skip strings and `{"n": 1}` skip `true`, as MongoDB does.
struct SQLiteFilter {
    let scalarPaths: Set<FieldPath>
    var fieldTypes: [FieldPath: CollectionLayout.FieldType] = [:]

    init(_ layout: CollectionLayout?) {
        scalarPaths = layout?.scalarPaths ?? []
        fieldTypes = layout?.fieldTypes ?? [:]
    }

    static func jsonPath(_ path: FieldPath) -> String {
        "'$" + path.components.map { ".\"\($0)\"" }.joined() + "'"
    }

    /// The SQL expressions giving a field's value and its JSON type.
    static func expressions(_ path: FieldPath) -> (value: String, type: String) {
        if path.components == ["id"] { return ("id", "'text'") }
        if path.components == ["_v"] { return ("v", "'integer'") }
        let p = jsonPath(path)
        return ("json_extract(body, \(p))", "json_type(body, \(p))")
    }

    func translate(_ filter: Filter) throws(StoreError) -> SQLFragment {
        switch filter {
        case .all:
            return SQLFragment("1")
        case .and(let parts):
            return try join(parts, with: " AND ", empty: "1")
        case .or(let parts):
            return try join(parts, with: " OR ", empty: "0")
        case .compare(let path, .ne, let value):
            return negate(try matchAny(path) { v, t, known throws(StoreError) in try compare(v, t, .eq, value, known) })
        case .compare(let path, let op, let value):
            return try matchAny(path) { v, t, known throws(StoreError) in try compare(v, t, op, value, known) }
        case .isIn(let path, let values):
            return try matchAny(path) { v, t, known throws(StoreError) in try oneOf(v, t, values, known) }
        case .notIn(let path, let values):
            return negate(try matchAny(path) { v, t, known throws(StoreError) in try oneOf(v, t, values, known) })
        case .exists(let path, let present):
            let (_, type) = Self.expressions(path)
            if path.components == ["id"] || path.components == ["_v"] {
                return SQLFragment(present ? "1" : "0")
            }
            return SQLFragment("\(type) IS \(present ? "NOT " : "")NULL")
        }
    }

    private func join(_ parts: [Filter], with separator: String, empty: String) throws(StoreError) -> SQLFragment {
        guard !parts.isEmpty else { return SQLFragment(empty) }
        var out = SQLFragment("(")
        for (i, part) in parts.enumerated() {
            let f = try translate(part)
            if i > 0 { out.sql += separator }
            out.sql += f.sql
            out.arguments += f.arguments
        }
        out.sql += ")"
        return out
    }

    /// NULL-safe negation: a missing field satisfies `$ne` and `$nin`, as in MongoDB.
    private func negate(_ f: SQLFragment) -> SQLFragment {
        SQLFragment("NOT IFNULL(\(f.sql), 0)", f.arguments)
    }

    /// MongoDB semantics: a condition on a field that holds an array also matches when
    /// one of its elements satisfies it. Skipped for paths the schema says are scalar,
    /// so that a plain comparison is left for an index to serve.
    private func matchAny(
        _ path: FieldPath, _ condition: (String, String, CollectionLayout.FieldType?) throws(StoreError) -> SQLFragment
    ) throws(StoreError) -> SQLFragment {
        let (value, type) = Self.expressions(path)
        let direct = try condition(value, type, fieldTypes[path])
        if scalarPaths.contains(path) || path.components == ["id"] || path.components == ["_v"] {
            return direct
        }
        let element = try condition("e.value", "e.type", nil)
        let p = Self.jsonPath(path)
        return SQLFragment(
            "(\(direct.sql) OR (\(type) = 'array' AND EXISTS (SELECT 1 FROM json_each(body, \(p)) AS e WHERE \(element.sql))))",
            direct.arguments + element.arguments)
    }

    /// `known`: the type every stored value at this path has (from the schema). The
    /// type guard is then needless when the operand has that type, and the comparison
    /// can never hold when it has another.
    private func compare(
        _ value: String, _ type: String, _ op: Filter.Comparison, _ operand: JSON, _ known: CollectionLayout.FieldType? = nil
    )
        throws(StoreError) -> SQLFragment
    {
        if let known {
            switch (known, operand) {
            case (.boolean, .bool(let b)) where op == .eq || op == .ne:
                return SQLFragment("\(value) = \(b ? 1 : 0)")
            case (.number, .int(let i)):
                return SQLFragment("\(value) \(Self.sqlOperator(op)) ?", [i.databaseValue])
            case (.number, .double(let d)):
                return SQLFragment("\(value) \(Self.sqlOperator(op)) ?", [d.databaseValue])
            case (.string, .string(let s)):
                return SQLFragment("\(value) \(Self.sqlOperator(op)) ?", [s.databaseValue])
            case (_, .null), (_, .array), (_, .object):
                break  // null matches a missing field; containers keep the general form
            default:
                return SQLFragment("0")
            }
        }
        let sqlOp = Self.sqlOperator(op)
        switch operand {
        case .null:
            guard op == .eq || op == .ne else { throw .internalError("ordering comparison with null") }
            return SQLFragment("(\(type) IS NULL OR \(type) = 'null')")
        case .bool(let b):
            guard op == .eq || op == .ne else { throw .internalError("ordering comparison with a boolean") }
            return SQLFragment("(\(value) = \(b ? 1 : 0) AND \(type) = '\(b ? "true" : "false")')")
        case .int(let i):
            return SQLFragment("(\(value) \(sqlOp) ? AND \(type) IN ('integer', 'real'))", [i.databaseValue])
        case .double(let d):
            return SQLFragment("(\(value) \(sqlOp) ? AND \(type) IN ('integer', 'real'))", [d.databaseValue])
        case .string(let s):
            return SQLFragment("(\(value) \(sqlOp) ? AND \(type) = 'text')", [s.databaseValue])
        case .array, .object:
            guard op == .eq || op == .ne else { throw .internalError("ordering comparison with \(operand.typeName)") }
            let kind = operand.typeName == "array" ? "array" : "object"
            return SQLFragment(
                "(\(type) = '\(kind)' AND \(Self.containerJSON(value, type)) = json(?))", [operand.serialized.databaseValue])
        }
    }

    /// The value as canonical JSON text when it is an array or object, else NULL. The
    /// type guard beside it does not keep `json()` from a text value (`json('Milk')` is
    /// an error, "malformed JSON"): inside `NOT IFNULL(…)` (`$ne`, `$nin`) SQLite
    /// evaluates both sides of an AND. A CASE is evaluated lazily.
    static func containerJSON(_ value: String, _ type: String) -> String {
        "json(CASE WHEN \(type) IN ('array', 'object') THEN \(value) END)"
    }

    static func sqlOperator(_ op: Filter.Comparison) -> String {
        switch op {
        case .eq, .ne: return "="
        case .gt: return ">"
        case .gte: return ">="
        case .lt: return "<"
        case .lte: return "<="
        }
    }

    private func oneOf(
        _ value: String, _ type: String, _ operands: [JSON], _ known: CollectionLayout.FieldType?
    ) throws(StoreError) -> SQLFragment {
        guard !operands.isEmpty else { return SQLFragment("0") }
        if operands.count > Self.maxInlineOperands { return oneOfMany(value, type, operands, known) }
        // All strings (the common case): one IN list an index can serve.
        let strings = operands.compactMap(\.stringValue)
        if strings.count == operands.count {
            let marks = Array(repeating: "?", count: strings.count).joined(separator: ", ")
            let guardType = known == .string ? "" : " AND \(type) = 'text'"
            return SQLFragment("(\(value) IN (\(marks))\(guardType))", strings.map(\.databaseValue))
        }
        var out = SQLFragment("(")
        for (i, operand) in operands.enumerated() {
            let f = try compare(value, type, .eq, operand, known)
            if i > 0 { out.sql += " OR " }
            out.sql += f.sql
            out.arguments += f.arguments
        }
        out.sql += ")"
        return out
    }

    /// Past this many operands, `$in` and `$nin` bind each kind of operand as one JSON
    /// array read with `json_each`: an OR chain of ~1,000 terms passes SQLite's
    /// expression depth limit, and an IN list of thousands of strings (two per value on
    /// a path that may hold an array) its parameter limit. Below it, the inline forms
    /// that an index serves best.
    static let maxInlineOperands = 64

    /// `oneOf` for a long list: one membership test per JSON type, each with the type
    /// guard `compare` gives a single operand, so `1` still skips `true` and `"1"`.
    /// Numbers reach SQLite as JSON text, as the stored documents do, so both sides go
    /// through the same text-to-double conversion.
    private func oneOfMany(
        _ value: String, _ type: String, _ operands: [JSON], _ known: CollectionLayout.FieldType?
    ) -> SQLFragment {
        var strings: [JSON] = []
        var numbers: [JSON] = []
        var containers: [JSON] = []
        var scalars: [JSON] = []  // null, true, false: at most three terms
        for operand in operands {
            switch operand {
            case .string: strings.append(operand)
            case .int, .double: numbers.append(operand)
            case .array, .object: containers.append(operand)
            case .null, .bool: if !scalars.contains(operand) { scalars.append(operand) }
            }
        }
        var terms: [SQLFragment] = []
        func member(_ values: [JSON], guardType: String) {
            terms.append(
                SQLFragment(
                    "(\(value) IN (SELECT j.value FROM json_each(?) AS j)\(guardType))",
                    [JSON.array(values).serialized.databaseValue]))
        }
        if !strings.isEmpty, known == nil || known == .string {
            member(strings, guardType: known == .string ? "" : " AND \(type) = 'text'")
        }
        if !numbers.isEmpty, known == nil || known == .number {
            member(numbers, guardType: known == .number ? "" : " AND \(type) IN ('integer', 'real')")
        }
        if !containers.isEmpty {
            terms.append(
                SQLFragment(
                    "(\(type) IN ('array', 'object') AND \(Self.containerJSON(value, type)) IN "
                        + "(SELECT json(j.value) FROM json_each(?) AS j WHERE j.type IN ('array', 'object')))",
                    [JSON.array(containers).serialized.databaseValue]))
        }
        for scalar in scalars {
            // Null and booleans never throw in `compare` with `.eq`.
            if let f = try? compare(value, type, .eq, scalar, known) { terms.append(f) }
        }
        guard !terms.isEmpty else { return SQLFragment("0") }
        return SQLFragment(
            "(" + terms.map(\.sql).joined(separator: " OR ") + ")", terms.flatMap(\.arguments))
    }

    /// `ORDER BY` for the sort keys; ties (and no keys) fall back to creation order.
    static func orderBy(_ sort: [SortKey]) -> String {
        let keys = sort.map { key in
            "\(expressions(key.path).value) \(key.descending ? "DESC" : "ASC")"
        }
        return "ORDER BY " + (keys + ["rowid ASC"]).joined(separator: ", ")
    }
}
