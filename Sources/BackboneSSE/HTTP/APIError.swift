import DocumentStore
import HTTPServer

/// An error that renders itself as the JSON error body of DESIGN.md §1:
/// `{"error": {"status", "code", "message", "details"?, "current"?}}`.
public struct APIError: Error, Sendable {
    public let status: Int
    public let code: String
    public let message: String
    public var details: [ValidationIssue] = []
    /// The stored document, for a 409 on a stale `_v`.
    public var current: String?
    public var headers: [(name: String, value: String)] = []
    /// What caused a 5xx, for the log; never sent.
    public var cause: String?

    public init(_ status: Int, _ code: String, _ message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(400, code, message)
    }

    static func notFound(_ message: String) -> APIError { APIError(404, "not_found", message) }

    static func validation(_ issues: [ValidationIssue]) -> APIError {
        var e = APIError(422, "validation_failed", "the document does not match the collection's schema")
        e.details = issues
        return e
    }

    public var response: HTTPResponse {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        out.append(contentsOf: "{\"error\":{\"status\":\(status),\"code\":".utf8)
        JSON.writeString(code, into: &out)
        out.append(contentsOf: ",\"message\":".utf8)
        JSON.writeString(message, into: &out)
        if !details.isEmpty {
            out.append(contentsOf: ",\"details\":[".utf8)
            for (i, d) in details.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                out.append(contentsOf: "{\"path\":".utf8)
                JSON.writeString(d.path, into: &out)
                out.append(contentsOf: ",\"message\":".utf8)
                JSON.writeString(d.message, into: &out)
                out.append(UInt8(ascii: "}"))
            }
            out.append(UInt8(ascii: "]"))
        }
        if let current {
            out.append(contentsOf: ",\"current\":".utf8)
            out.append(contentsOf: current.utf8)
        }
        out.append(contentsOf: "}}".utf8)
        var headers = self.headers
        headers.append(("Content-Type", "application/json; charset=utf-8"))
        return HTTPResponse(status: status, headers: headers, body: out)
    }
}
