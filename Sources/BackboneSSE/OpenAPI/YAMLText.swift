import DocumentStore
import Yams

/// JSON values as YAML text, keeping the order of object members, for documents that
/// are read back by other YAML parsers (PyYAML's YAML 1.1 among them).
///
/// Every node carries its tag, so that Yams never resolves one: its resolver would type
/// plain scalars with a dozen NSRegularExpressions, whose ICU tables then stay in
/// memory (see `YAMLConversion`). Strings that a YAML 1.1 or 1.2 reader would take for
/// something else (`'200'`, `'3.1.0'`, `'yes'`) are quoted; libyaml quotes the rest
/// itself when plain style cannot hold them.
enum YAMLText {
    static func render(_ value: JSON) throws -> String {
        try Yams.serialize(node: node(value), width: -1, allowUnicode: true)
    }

    static func node(_ value: JSON) -> Node {
        switch value {
        case .null: return Node("null", Tag(.null), .plain)
        case .bool(let b): return Node(b ? "true" : "false", Tag(.bool), .plain)
        case .int(let i): return Node(String(i), Tag(.int), .plain)
        case .double(let d): return Node(text(of: d), Tag(.float), .plain)
        case .string(let s): return Node(s, Tag(.str), style(of: s))
        case .array(let items):
            let scalars = items.allSatisfy { if case .array = $0 { false } else if case .object = $0 { false } else { true } }
            return Node(items.map(node), Tag(.seq), scalars && !items.isEmpty && items.count <= 16 ? .flow : .any)
        case .object(let object):
            return Node(
                object.members.map { (Node($0.key, Tag(.str), style(of: $0.key)), node($0.value)) }, Tag(.map),
                object.isEmpty ? .flow : .any)
        }
    }

    static func text(of d: Double) -> String {
        if d.isNaN { return ".nan" }
        if d.isInfinite { return d < 0 ? "-.inf" : ".inf" }
        return "\(d)"
    }

    /// Multi-line text as a literal block (libyaml falls back to quotes when it cannot);
    /// quotes when plain text would read as another type; else libyaml's choice.
    static func style(of s: String) -> Node.Scalar.Style {
        if s.contains("\n") { return .literal }
        guard let first = s.unicodeScalars.first else { return .singleQuoted }
        // Numbers (`12`, `-1`, `+1`, `.5`, `.inf`), `~`, and 1.1's `=` and `<<`.
        if "0123456789-+.~=<".unicodeScalars.contains(first) { return .singleQuoted }
        let words: Set<String> = ["true", "false", "yes", "no", "on", "off", "y", "n", "null"]
        return words.contains(s.lowercased()) ? .singleQuoted : .any
    }
}
