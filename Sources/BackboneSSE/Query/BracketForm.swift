import DocumentStore

/// jQuery's `$.param` bracket form, read back into a tree: `where[tag][$in][]=a` is
/// `{"where": {"tag": {"$in": ["a"]}}}`. Leaves stay strings (a query string carries
/// nothing else); the filter parser types them by the schema. Objects whose keys are
/// 0, 1, 2… become arrays: that is how `$.param` writes arrays of objects (`$or`).
enum BracketForm {
    /// The parameters as one JSON object of strings, arrays and objects.
    static func tree(_ pairs: [(name: String, value: String)]) throws(APIError) -> JSONObject {
        var root = JSONObject()
        for (name, value) in pairs {
            let (base, keys) = try split(name)
            root[base] = try insert(root[base], keys[...], .string(value), name: name)
        }
        return normalize(root)
    }

    /// `a[b][]` → ("a", ["b", ""]).
    static func split(_ name: String) throws(APIError) -> (String, [String]) {
        guard let open = name.firstIndex(of: "["), open != name.startIndex else { return (name, []) }
        let base = String(name[..<open])
        var keys: [String] = []
        var rest = name[open...]
        while !rest.isEmpty {
            guard rest.first == "[", let close = rest.firstIndex(of: "]") else {
                throw .badRequest("malformed parameter name '\(name)'", code: "bad_request")
            }
            keys.append(String(rest[rest.index(after: rest.startIndex)..<close]))
            rest = rest[rest.index(after: close)...]
        }
        guard keys.count <= 16 else { throw .badRequest("parameter '\(name)' is nested too deeply", code: "bad_query") }
        return (base, keys)
    }

    private static func insert(_ existing: JSON?, _ keys: ArraySlice<String>, _ value: JSON, name: String) throws(APIError) -> JSON {
        guard let key = keys.first else {
            // A repeated plain name: the last one wins, as in most servers.
            return value
        }
        let rest = keys.dropFirst()
        if key.isEmpty {
            var array: [JSON]
            switch existing {
            case nil: array = []
            case .array(let a)?: array = a
            default: throw .badRequest("parameter '\(name)' mixes a list and a single value", code: "bad_query")
            }
            guard array.count < 10_000 else { throw .badRequest("parameter '\(name)' has too many values", code: "bad_query") }
            array.append(try insert(nil, rest, value, name: name))
            return .array(array)
        }
        var object: JSONObject
        switch existing {
        case nil: object = JSONObject()
        case .object(let o)?: object = o
        default: throw .badRequest("parameter '\(name)' mixes an object and a single value", code: "bad_query")
        }
        object[key] = try insert(object[key], rest, value, name: name)
        return .object(object)
    }

    private static func normalize(_ object: JSONObject) -> JSONObject {
        JSONObject(object.members.map { ($0.key, normalize($0.value)) })
    }

    private static func normalize(_ value: JSON) -> JSON {
        switch value {
        case .object(let o):
            let keys = o.keys
            if !keys.isEmpty, keys.enumerated().allSatisfy({ String($0.offset) == $0.element }) {
                return .array(o.members.map { normalize($0.value) })
            }
            return .object(normalize(o))
        case .array(let a):
            return .array(a.map(normalize))
        default:
            return value
        }
    }
}
