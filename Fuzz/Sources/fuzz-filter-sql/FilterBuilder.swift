import DocumentStore

/// A filter read from fuzz bytes, one choice per byte: the shapes FilterParser makes
/// (non-empty `and`/`or`, ordering only against numbers and strings, no NUL), so that a
/// store error is a finding, not an input the server would have refused.
struct FilterBuilder {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) { self.bytes = bytes[...] }

    private mutating func next() -> Int { Int(bytes.popFirst() ?? 0) }

    private mutating func pick<T>(_ choices: [T]) -> T { choices[next() % choices.count] }

    mutating func filter(depth: Int = 0) -> Filter {
        guard !bytes.isEmpty else { return .all }
        let path = pick(Documents.paths)
        switch next() % (depth < 4 ? 7 : 5) {
        case 0: return .compare(path, pick([.eq, .ne]), pick(Documents.operands))
        case 1:
            let ordered = Documents.operands.filter { $0.isNumber || $0.stringValue != nil }
            return .compare(path, pick([.gt, .gte, .lt, .lte]), pick(ordered))
        case 2: return .isIn(path, operands())
        case 3: return .notIn(path, operands())
        case 4: return .exists(path, next() % 2 == 0)
        case 5: return .and(parts(depth))
        default: return .or(parts(depth))
        }
    }

    private mutating func operands() -> [JSON] {
        (0..<(next() % 6)).map { _ in pick(Documents.operands) }
    }

    private mutating func parts(_ depth: Int) -> [Filter] {
        (0...(next() % 3)).map { _ in filter(depth: depth + 1) }
    }
}
