import Glibc

/// A JSON value. Objects keep their keys in order, and integers stay integers (the
/// MongoDB store needs the distinction; `1` must not come back as `1.0`).
public enum JSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([JSON])
    case object(JSONObject)

    public var objectValue: JSONObject? {
        if case .object(let o) = self { return o }
        return nil
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSON]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// The number as a Double, for integers and doubles alike.
    public var numberValue: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }

    public var isNumber: Bool { numberValue != nil }

    /// The JSON type name as JSON Schema spells it.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    public static func == (a: JSON, b: JSON) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x.sameCodeUnits(as: y)
        case (.array(let x), .array(let y)): return x == y
        case (.object(let x), .object(let y)): return x == y
        default:
            return JSON.compareNumbers(a, b) == 0
        }
    }

    /// The order of two numbers, exactly (-1, 0, 1), or nil when one is not a number.
    /// An integer and a double are compared as the numbers they are, as SQLite and
    /// MongoDB compare them: 2^53 + 1 is not the double 2^53, which it would be as a Double.
    public static func compareNumbers(_ a: JSON, _ b: JSON) -> Int? {
        switch (a, b) {
        case (.int(let x), .int(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .double(let y)): return x < y ? -1 : (x > y ? 1 : 0)
        case (.double(let x), .int(let y)): return order(x, y)
        case (.int(let x), .double(let y)): return order(y, x).map { -$0 }
        default: return nil
        }
    }

    /// A double against an integer without rounding the integer to a double.
    private static func order(_ d: Double, _ i: Int64) -> Int? {
        if d.isNaN { return nil }
        if d < -0x1p63 { return -1 }
        if d >= 0x1p63 { return 1 }
        let whole = d.rounded(.down)
        let w = Int64(whole)  // exact: whole is an integer within Int64's range
        if w != i { return w < i ? -1 : 1 }
        return d > whole ? 1 : 0
    }
}

/// A JSON object: ordered members, looked up by name.
public struct JSONObject: Sendable, Equatable {
    public private(set) var members: [(key: String, value: JSON)]

    public init(_ members: [(key: String, value: JSON)] = []) {
        self.members = members
    }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }
    public var count: Int { members.count }

    public subscript(key: String) -> JSON? {
        get { members.first { $0.key.sameCodeUnits(as: key) }?.value }
        set {
            if let i = members.firstIndex(where: { $0.key.sameCodeUnits(as: key) }) {
                if let newValue { members[i].value = newValue } else { members.remove(at: i) }
            } else if let newValue {
                members.append((key, newValue))
            }
        }
    }

    public mutating func removeValue(forKey key: String) -> JSON? {
        guard let i = members.firstIndex(where: { $0.key.sameCodeUnits(as: key) }) else { return nil }
        return members.remove(at: i).value
    }

    /// Equal members, in any order (JSON objects are unordered).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        return a.members.allSatisfy { b[$0.key] == $0.value }
    }
}

extension String {
    /// JSON text is equal when its code points are: Swift's `==` also equates canonically
    /// equivalent text (`"\u{E9}"` and `"e\u{301}"`), which SQLite, MongoDB and RFC 8259
    /// hold to be different strings, so two such member names are two members.
    @inlinable public func sameCodeUnits(as other: String) -> Bool {
        let (mine, theirs) = (utf8, other.utf8)
        guard mine.count == theirs.count else { return false }
        // Native strings compare with `memcmp`; `elementsEqual` steps through them generically.
        let buffers = mine.withContiguousStorageIfAvailable { a in
            theirs.withContiguousStorageIfAvailable { b in sameBytes(a, b) }
        }
        return (buffers ?? nil) ?? mine.elementsEqual(theirs)
    }
}

/// Two byte buffers with the same contents.
@inlinable func sameBytes(_ a: UnsafeBufferPointer<UInt8>, _ b: UnsafeBufferPointer<UInt8>) -> Bool {
    a.count == b.count && (a.isEmpty || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
}

/// A string as a key by its UTF-8 bytes. Swift's `String` equality and hashing equate
/// canonically equivalent text (`"\u{E9}"` and `"e\u{301}"`), which the stores, and
/// users' tokens, hold to be different: a cache or a table keyed by such text must not
/// hand one's entry to the other.
public struct ExactText: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(_ text: String) {
        bytes = Array(text.utf8)
    }
}
