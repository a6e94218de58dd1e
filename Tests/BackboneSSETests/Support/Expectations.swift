import DocumentStore
import Foundation
import Testing

/// The error body of DESIGN.md §1, as pytest's `assert_error` checks it:
/// `{"error": {"status", "code", "message"}}` as `application/json`, nothing else at the
/// top. Returns `error` for further checks.
@discardableResult
func expectError(
    _ r: TestResponse, _ status: Int, _ code: String? = nil, sourceLocation: SourceLocation = #_sourceLocation
) -> JSONObject {
    #expect(r.status == status, "\(r.text)", sourceLocation: sourceLocation)
    #expect(r.header("Content-Type")?.hasPrefix("application/json") == true, "\(r.response.headers)", sourceLocation: sourceLocation)
    let body = r.object
    #expect(body?.keys == ["error"], "\(r.text)", sourceLocation: sourceLocation)
    let error = body?["error"]?.objectValue ?? JSONObject()
    #expect(error["status"] == .int(Int64(status)), "\(r.text)", sourceLocation: sourceLocation)
    #expect(error["code"]?.stringValue?.isEmpty == false, "\(r.text)", sourceLocation: sourceLocation)
    #expect(error["message"]?.stringValue?.isEmpty == false, "\(r.text)", sourceLocation: sourceLocation)
    if let code {
        #expect(error["code"] == .string(code), "\(r.text)", sourceLocation: sourceLocation)
    }
    return error
}

/// A JSON literal of a test (a bad one is a mistake in the test).
func json(_ text: String) -> JSON {
    do { return try JSONParser.parse(text) } catch { fatalError("bad JSON in a test: \(text): \(error)") }
}

func object(_ text: String) -> JSONObject {
    guard let object = json(text).objectValue else { fatalError("not a JSON object in a test: \(text)") }
    return object
}

extension JSONObject {
    /// The document as JSON text, to send it back (as Backbone sends the whole model).
    var text: String { String(decoding: JSON.object(self).serializedBytes, as: UTF8.self) }

    /// A string member (`id` mostly).
    func string(_ key: String) -> String { self[key]?.stringValue ?? "" }

    /// A copy with some members changed.
    func with(_ changes: [(String, JSON)]) -> JSONObject {
        var copy = self
        for (key, value) in changes { copy[key] = value }
        return copy
    }
}

/// JavaScript's `encodeURIComponent`, as jQuery's `$.param` uses it.
func encodeURIComponent(_ s: String) -> String {
    let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()")
    return s.addingPercentEncoding(withAllowedCharacters: unreserved)!
}

/// `$.param` of flat pairs: a form body or a query string.
func formEncode(_ pairs: [(String, String)]) -> String {
    pairs.map { encodeURIComponent($0.0) + "=" + encodeURIComponent($0.1) }.joined(separator: "&")
}

/// A unique string, as pytest's `unique()`.
func unique(_ prefix: String = "t") -> String {
    "\(prefix)-\(UUID().uuidString.prefix(12).lowercased())"
}
