/// A request target as the access log writes it: the values of query parameters that
/// carry credentials (a stream's `ticket`, an `access_token` some client sends anyway)
/// replaced by `***`, so that a log file never holds what would open a user's data.
enum LoggedTarget {
    static let secretParameters: Set<Substring> = ["ticket", "access_token", "token"]

    static func redacting(_ target: String) -> String {
        guard let q = target.firstIndex(of: "?") else { return target }
        let query = target[target.index(after: q)...]
        var changed = false
        let parts = query.split(separator: "&", omittingEmptySubsequences: false).map { part -> Substring in
            guard let eq = part.firstIndex(of: "="), secretParameters.contains(part[..<eq].lowercased()[...]) else {
                return part
            }
            changed = true
            return part[...eq] + "***"
        }
        return changed ? target[...q] + parts.joined(separator: "&") : target
    }
}
