import DocumentStore
import Foundation
import HTTPServer

/// Building answers: JSON bodies, conditional request headers.
enum Responses {
    static let jsonType: (name: String, value: String) = ("Content-Type", "application/json; charset=utf-8")

    static func json(_ status: Int, _ body: [UInt8], _ headers: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, headers: [jsonType] + headers, body: body)
    }

    static func json(_ status: Int, _ value: JSON, _ headers: [(name: String, value: String)] = []) -> HTTPResponse {
        json(status, value.serializedBytes, headers)
    }

    /// A stored document as the answer's body, with its type and `ETag`. Room is kept for
    /// the headers the caller and the decorators add (cursor, `Vary`, `Location`, the
    /// request id, CORS): the array then never grows.
    static func document(_ status: Int, _ document: StoredDocument) -> HTTPResponse {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(8)
        headers.append(jsonType)
        headers.append((name: "ETag", value: etag(document.version)))
        return HTTPResponse(status: status, headers: headers, body: Array(document.json.utf8))
    }

    static func etag(_ version: Int64) -> String { "\"" + String(version) + "\"" }

    /// The versions named by an `If-Match` or `If-None-Match` header; `any` for `*`.
    static func entityTags(_ header: String) -> (any: Bool, versions: Set<Int64>) {
        var versions: Set<Int64> = []
        var any = false
        for raw in header.split(separator: ",") {
            var tag = raw.trimmingCharacters(in: .whitespaces)[...]
            if tag == "*" {
                any = true
                continue
            }
            if tag.hasPrefix("W/") { tag = tag.dropFirst(2) }
            if tag.hasPrefix("\"") && tag.hasSuffix("\"") && tag.count >= 2 { tag = tag.dropFirst().dropLast() }
            if let v = Int64(tag) { versions.insert(v) }
        }
        return (any, versions)
    }

    static func errorResponse(_ status: Int, _ code: String, _ message: String) -> HTTPResponse {
        APIError(status, code, message).response
    }
}
