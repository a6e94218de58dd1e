import DocumentStore

/// A filter written back as the JSON `where` that means it, operator by operator: the
/// inverse of FilterParser for JSON input, so that parse(encode(f)) == f is checkable.
enum WhereEncoding {
    static func object(_ filter: Filter) -> JSON {
        switch filter {
        case .all: return .object(JSONObject())
        case .and(let parts): return .object(JSONObject([("$and", .array(parts.map(object)))]))
        case .or(let parts): return .object(JSONObject([("$or", .array(parts.map(object)))]))
        case .compare(let path, let op, let operand): return condition(path, "$" + op.rawValue, operand)
        case .isIn(let path, let operands): return condition(path, "$in", .array(operands))
        case .notIn(let path, let operands): return condition(path, "$nin", .array(operands))
        case .exists(let path, let present): return condition(path, "$exists", .bool(present))
        }
    }

    private static func condition(_ path: FieldPath, _ op: String, _ operand: JSON) -> JSON {
        .object(JSONObject([(path.description, .object(JSONObject([(op, operand)])))]))
    }
}

/// Query-string pairs written back: every byte but the unreserved ones percent-escaped.
enum QueryEncoding {
    static func text(_ pairs: [(name: String, value: String)]) -> String {
        pairs.map { escape($0.name) + "=" + escape($0.value) }.joined(separator: "&")
    }

    private static func escape(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(b))
            default:
                out += "%" + String(b >> 4, radix: 16, uppercase: true) + String(b & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
