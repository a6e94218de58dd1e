import Foundation

/// The shapes pytest checked with regular expressions.
enum Pattern {
    static var cursor: Regex<AnyRegexOutput> { try! Regex(#"^[0-9a-f]+-\d+$"#) }
    static var objectID: Regex<AnyRegexOutput> { try! Regex(#"^[0-9a-f]{24}$"#) }
    static var rfc3339UTC: Regex<AnyRegexOutput> { try! Regex(#"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|\+00:00)$"#) }

    static func matches(_ text: String?, _ regex: Regex<AnyRegexOutput>) -> Bool {
        guard let text else { return false }
        return (try? regex.wholeMatch(in: text)) != nil
    }

    /// An RFC 3339 UTC time (nil when it is not one).
    static func time(_ text: String?) -> Date? {
        guard let text, matches(text, rfc3339UTC) else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
