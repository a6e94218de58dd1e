import DocumentStore

/// Everything a `GET /{c}` query string can ask: a filter (equality parameters, `where`
/// or `query` as JSON or in bracket form), `sort`, `limit` and `skip`.
struct ListRequest {
    var query: ListQuery
    /// `since=` for streams.
    var since: String?
}

enum ListQueryParser {
    /// Conditions one list or stream may filter on (a `$in` list counts once).
    static let maxConditions = 256

    /// Parameters that are not field filters. `_` is jQuery's cache buster; `ticket` is a
    /// stream's credential (never a filter, so never echoed in a message or a `Link`).
    static let reserved: Set<String> = ["where", "query", "sort", "limit", "skip", "since", "_", "_method", "collections", "ticket"]

    static func parse(
        _ pairs: [(name: String, value: String)], schema: Schema, maxLimit: Int
    ) throws(APIError) -> ListRequest {
        let tree = try BracketForm.tree(pairs)
        var filter = Filter.all
        var equality = JSONObject()
        for (name, value) in tree.members where !reserved.contains(name) {
            equality[name] = value
        }
        if !equality.isEmpty {
            filter = filter && (try FilterParser(schema: schema, fromQueryString: true).parse(equality))
        }
        for name in ["where", "query"] {
            guard let value = tree[name] else { continue }
            filter = filter && (try whereFilter(value, name: name, schema: schema))
        }
        // Bounded before any store sees it: SQLite refuses an expression deeper than
        // 1,000 (a flat AND of about that many conditions), and a stream tests each
        // condition against every change.
        guard filter.conditionCount <= maxConditions else {
            throw .badRequest(
                "a filter may hold at most \(maxConditions) conditions; this one holds \(filter.conditionCount)",
                code: "bad_query")
        }
        var query = ListQuery(filter: filter, limit: maxLimit)
        if let sort = tree["sort"] { query.sort = try parseSort(sort) }
        if let limit = tree["limit"] {
            guard case .string(let s) = limit, let n = Int(s), n >= 0 else {
                throw .badRequest("limit must be a non-negative integer", code: "bad_query")
            }
            query.limit = min(n, maxLimit)
        }
        if let skip = tree["skip"] {
            guard case .string(let s) = skip, let n = Int(s), n >= 0 else {
                throw .badRequest("skip must be a non-negative integer", code: "bad_query")
            }
            query.skip = n
        }
        return ListRequest(query: query, since: tree["since"]?.stringValue)
    }

    /// `where` as JSON text (`where={"done":false}`) or in bracket form (`where[done]=false`).
    static func whereFilter(_ value: JSON, name: String, schema: Schema) throws(APIError) -> Filter {
        switch value {
        case .string(let text):
            guard !text.isEmpty else { return .all }
            let parsed: JSON
            do { parsed = try JSONParser.parse(text) } catch {
                throw .badRequest("\(name) is not valid JSON: \(error)", code: "bad_query")
            }
            guard case .object(let object) = parsed else {
                throw .badRequest("\(name) must be a JSON object", code: "bad_query")
            }
            return try FilterParser(schema: schema, fromQueryString: false).parse(object)
        case .object(let object):
            return try FilterParser(schema: schema, fromQueryString: true).parse(object)
        default:
            throw .badRequest("\(name) must be a JSON object or use the bracket form", code: "bad_query")
        }
    }

    /// `sort=-created,title`, `sort[created]=-1`, or `sort={"created":-1}`.
    static func parseSort(_ value: JSON) throws(APIError) -> [SortKey] {
        var keys: [SortKey] = []
        func add(_ field: String, descending: Bool) throws(APIError) {
            guard let path = FieldPath(field) else { throw .badRequest("cannot sort by '\(field)'", code: "bad_query") }
            keys.append(SortKey(path, descending: descending))
        }
        func direction(_ v: JSON, field: String) throws(APIError) -> Bool {
            switch v {
            case .int(1), .string("1"), .string("asc"), .string("ascending"): return false
            case .int(-1), .string("-1"), .string("desc"), .string("descending"): return true
            default: throw .badRequest("sort direction for '\(field)' must be 1 or -1", code: "bad_query")
            }
        }
        switch value {
        case .string(let text) where text.hasPrefix("{"):
            guard case .object(let o)? = try? JSONParser.parse(text) else {
                throw .badRequest("sort is not a valid JSON object", code: "bad_query")
            }
            for (field, v) in o.members { try add(field, descending: try direction(v, field: field)) }
        case .string(let text):
            for part in text.split(separator: ",") {
                let trimmed = part.trimmingPrefix(" ")
                if trimmed.hasPrefix("-") {
                    try add(String(trimmed.dropFirst()), descending: true)
                } else {
                    try add(String(trimmed.hasPrefix("+") ? trimmed.dropFirst() : trimmed[...]), descending: false)
                }
            }
        case .object(let o):
            for (field, v) in o.members { try add(field, descending: try direction(v, field: field)) }
        default:
            throw .badRequest("sort must be like -created,title or sort[created]=-1", code: "bad_query")
        }
        guard keys.count <= 8 else { throw .badRequest("at most 8 sort keys", code: "bad_query") }
        return keys
    }
}
