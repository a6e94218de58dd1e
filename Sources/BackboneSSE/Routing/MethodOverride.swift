import DocumentStore
import HTTPServer

/// `Backbone.emulateHTTP`: a POST that says, in `X-HTTP-Method-Override` or `_method`
/// (in the query string or a form body), which method it stands for.
enum MethodOverride {
    static func effectiveMethod(_ request: HTTPRequest, _ target: Target) throws(APIError) -> String {
        guard request.method == "POST" else { return request.method }
        var override = request.header("X-HTTP-Method-Override")
        if override == nil { override = target.parameter("_method") }
        if override == nil, request.header("Content-Type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true,
            let text = String(utf8Validating: request.body), !text.hasPrefix("{")
        {
            override = (try? QueryString.parse(text[...]))?.last { $0.name == "_method" }?.value
        }
        guard let override = override?.uppercased() else { return "POST" }
        guard ["PUT", "PATCH", "DELETE", "POST"].contains(override) else {
            throw .badRequest("cannot override POST with \(override)", code: "bad_method_override")
        }
        return override
    }
}
