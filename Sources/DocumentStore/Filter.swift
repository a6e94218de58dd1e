/// A dotted path to a field: `owner.name` is `["owner", "name"]`.
public struct FieldPath: Sendable, Hashable, CustomStringConvertible {
    public let components: [String]

    /// Components are non-empty and made of letters, digits, `_` and `-`, and do not
    /// start with `$`: safe to inline in a SQLite JSON path and a MongoDB field name.
    public init?(_ dotted: String) {
        let parts = dotted.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard !parts.isEmpty, parts.allSatisfy(FieldPath.isValidComponent) else { return nil }
        components = parts
    }

    public static func isValidComponent(_ s: String) -> Bool {
        guard !s.isEmpty, s.utf8.count <= 128 else { return false }
        return s.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "-")
        }
    }

    public var description: String { components.joined(separator: ".") }
}

/// The store-neutral filter tree every `DocumentStore` translates. Only these operators
/// exist, so nothing a client writes can reach a store as an operator of its own.
public indirect enum Filter: Sendable, Equatable {
    case all
    case and([Filter])
    case or([Filter])
    /// Equality follows MongoDB: on an array field it matches an element, and `null`
    /// matches a missing field.
    case compare(FieldPath, Comparison, JSON)
    case isIn(FieldPath, [JSON])
    case notIn(FieldPath, [JSON])
    case exists(FieldPath, Bool)

    public enum Comparison: String, Sendable, Equatable, CaseIterable {
        case eq, ne, gt, gte, lt, lte
    }

    /// `and` of the two, flattening the trivial cases.
    public static func && (a: Filter, b: Filter) -> Filter {
        switch (a, b) {
        case (.all, _): return b
        case (_, .all): return a
        case (.and(let x), .and(let y)): return .and(x + y)
        case (.and(let x), _): return .and(x + [b])
        case (_, .and(let y)): return .and([a] + y)
        default: return .and([a, b])
        }
    }

    /// The conditions of the tree (its leaves; a `$in` list is one).
    public var conditionCount: Int {
        switch self {
        case .all: 0
        case .and(let parts), .or(let parts): parts.reduce(0) { $0 + $1.conditionCount }
        case .compare, .isIn, .notIn, .exists: 1
        }
    }

    /// Whether any condition of the tree is on `path`.
    public func mentions(_ path: FieldPath) -> Bool {
        switch self {
        case .all: false
        case .and(let parts), .or(let parts): parts.contains { $0.mentions(path) }
        case .compare(let p, _, _), .isIn(let p, _), .notIn(let p, _), .exists(let p, _): p == path
        }
    }
}

public struct SortKey: Sendable, Equatable {
    public let path: FieldPath
    public let descending: Bool

    public init(_ path: FieldPath, descending: Bool = false) {
        self.path = path
        self.descending = descending
    }
}

/// What a list asks for. Without sort keys, documents come in creation order.
public struct ListQuery: Sendable, Equatable {
    public var filter: Filter
    public var sort: [SortKey]
    public var limit: Int
    public var skip: Int

    public init(filter: Filter = .all, sort: [SortKey] = [], limit: Int = 1000, skip: Int = 0) {
        self.filter = filter
        self.sort = sort
        self.limit = limit
        self.skip = skip
    }
}
