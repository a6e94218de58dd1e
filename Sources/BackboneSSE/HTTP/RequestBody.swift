import DocumentStore
import Foundation
import HTTPServer

/// The document a write request carries: a JSON body, or Backbone.emulateJSON's
/// form-encoded `model=<json>` (its `_method`, for emulateHTTP, is read by `MethodOverride`).
struct RequestBody {
    let object: JSONObject

    static func decode(_ request: HTTPRequest) throws(APIError) -> RequestBody {
        switch mediaType(request.header("Content-Type") ?? "") {
        case "":
            // Not guessed: a body without a type is what `navigator.sendBeacon` or a form
            // on another site sends without asking (see `CrossOriginWrites`).
            throw APIError(415, "unsupported_media_type", "the request has no Content-Type; send the document as application/json")
        case "application/json", "text/json":
            return RequestBody(object: try object(request.body))
        case "application/x-www-form-urlencoded":
            // curl -d sends this type by default: a body that is plainly JSON is taken as JSON.
            if request.body.first == UInt8(ascii: "{") {
                return RequestBody(object: try object(request.body))
            }
            guard let text = String(utf8Validating: request.body) else {
                throw .badRequest("the form body is not valid UTF-8", code: "bad_body")
            }
            let form = try QueryString.parse(text[...], from: .form)
            guard let model = form.last(where: { $0.name == "model" })?.value else {
                throw .badRequest("a form-encoded body must carry the document as model=<json> (Backbone.emulateJSON)", code: "bad_body")
            }
            return RequestBody(object: try object(Array(model.utf8)))
        default:
            throw APIError(415, "unsupported_media_type", "send the document as application/json (or form-encoded model=<json>)")
        }
    }

    /// `Application/JSON; charset=utf-8` → `application/json` (on every write: bytes,
    /// not Foundation's character sets).
    static func mediaType(_ contentType: String) -> String {
        let isSpace: (UInt8) -> Bool = { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        var bytes = Array(contentType.utf8.prefix { $0 != UInt8(ascii: ";") })
        while let last = bytes.last, isSpace(last) { bytes.removeLast() }
        let start = bytes.firstIndex { !isSpace($0) } ?? bytes.endIndex
        for i in start..<bytes.endIndex where bytes[i] >= 0x41 && bytes[i] <= 0x5A { bytes[i] += 0x20 }
        return String(decoding: bytes[start...], as: UTF8.self)
    }

    static func object(_ bytes: [UInt8]) throws(APIError) -> JSONObject {
        guard !bytes.isEmpty else { throw .badRequest("the request has no body; send a JSON object", code: "bad_json") }
        let value: JSON
        do { value = try JSONParser.parse(bytes) } catch {
            throw .badRequest("malformed JSON: \(error)", code: "bad_json")
        }
        guard case .object(let object) = value else {
            throw .badRequest(
                "the body must be a JSON object, not \(value.typeName == "array" ? "an array" : "a \(value.typeName)")", code: "bad_json")
        }
        guard !hasNULInName(value) else {
            throw .badRequest("a member name contains a NUL character (\\u0000)", code: "bad_json")
        }
        if let name = object.members.first(where: { isReserved($0.key) })?.key {
            throw .badRequest("the member name \(name) is reserved (_id, _c and names starting with $)", code: "bad_json")
        }
        return object
    }

    /// Top-level names the MongoDB store keeps for itself: `_id` (the document's id,
    /// `id` here) and `_c` (its creation order), which a client's value would clobber
    /// (the document was then lost), and `$…`, an operator to MongoDB (a 500). SQLite
    /// would keep them as data; refused on every store so that both agree.
    private static func isReserved(_ name: String) -> Bool {
        name == "_id" || name == "_c" || name.hasPrefix("$")
    }

    /// Whether a member name, at any depth, holds U+0000: valid JSON, but no name a
    /// store can keep alike (BSON names are C strings), so refused on every store.
    /// The parser bounds the depth, and with it this recursion.
    private static func hasNULInName(_ value: JSON) -> Bool {
        switch value {
        case .object(let object):
            object.members.contains { $0.key.utf8.contains(0) || hasNULInName($0.value) }
        case .array(let elements):
            elements.contains(where: hasNULInName)
        default:
            false
        }
    }
}
