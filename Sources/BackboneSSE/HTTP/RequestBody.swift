import DocumentStore
import Foundation
import HTTPServer

/// The document a write request carries: a JSON body, or Backbone.emulateJSON's
/// form-encoded `model=<json>` (with `_method` for emulateHTTP).
struct RequestBody {
    let object: JSONObject
    /// `_method` from a form body.
    let methodOverride: String?

    static func decode(_ request: HTTPRequest) throws(APIError) -> RequestBody {
        let contentType = request.header("Content-Type")?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        switch mediaType {
        case "application/json", "", "text/json":
            return RequestBody(object: try object(request.body), methodOverride: nil)
        case "application/x-www-form-urlencoded":
            // curl -d sends this type by default: a body that is plainly JSON is taken as JSON.
            if request.body.first == UInt8(ascii: "{") {
                return RequestBody(object: try object(request.body), methodOverride: nil)
            }
            guard let text = String(validating: request.body, as: UTF8.self) else {
                throw .badRequest("the form body is not valid UTF-8", code: "bad_body")
            }
            let form = try QueryString.parse(text[...])
            let method = form.last { $0.name == "_method" }?.value
            guard let model = form.last(where: { $0.name == "model" })?.value else {
                throw .badRequest("a form-encoded body must carry the document as model=<json> (Backbone.emulateJSON)", code: "bad_body")
            }
            return RequestBody(object: try object(Array(model.utf8)), methodOverride: method)
        default:
            throw APIError(415, "unsupported_media_type", "send the document as application/json (or form-encoded model=<json>)")
        }
    }

    static func object(_ bytes: [UInt8]) throws(APIError) -> JSONObject {
        guard !bytes.isEmpty else { throw .badRequest("the request has no body; send a JSON object", code: "bad_json") }
        let value: JSON
        do { value = try JSONParser.parse(bytes) } catch {
            throw .badRequest("malformed JSON: \(error)", code: "bad_json")
        }
        guard case .object(let object) = value else {
            throw .badRequest("the body must be a JSON object, not \(value.typeName == "array" ? "an array" : "a \(value.typeName)")", code: "bad_json")
        }
        return object
    }
}
