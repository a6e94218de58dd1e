import Foundation

/// A request target as the log may show it: the values of query parameters that carry
/// credentials are replaced. The server never takes a token in a URL (DESIGN.md §5), but
/// a client may still send one there, and stream tickets travel as `?ticket=`: the log
/// must keep neither.
enum RedactedTarget {
    static let secretNames: Set<String> = ["access_token", "id_token", "token", "ticket", "jwt"]

    static func of(_ target: String) -> String {
        guard let question = target.firstIndex(of: "?") else { return target }
        let query = target[target.index(after: question)...]
        var changed = false
        let pairs = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> Substring in
            guard let equals = pair.firstIndex(of: "=") else { return pair }
            // Decoded as the server decodes it: `t%69cket` is read as `ticket`.
            let raw = String(pair[..<equals])
            let name = (raw.removingPercentEncoding ?? raw).lowercased()
            guard secretNames.contains(name) || secretNames.contains(name.removingBrackets) else { return pair }
            changed = true
            return pair[...equals] + "REDACTED"
        }
        guard changed else { return target }
        return String(target[...question]) + pairs.joined(separator: "&")
    }
}

extension String {
    /// `ticket[]` names the same parameter to a lenient parser.
    fileprivate var removingBrackets: String {
        hasSuffix("[]") ? String(dropLast(2)) : self
    }
}
