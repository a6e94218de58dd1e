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

    static func document(_ status: Int, _ document: StoredDocument, _ headers: [(name: String, value: String)] = []) -> HTTPResponse {
        var all: [(name: String, value: String)] = []
        // Room for the headers the decorators add (the request id, CORS): no regrowth.
        all.reserveCapacity(headers.count + 5)
        all.append(jsonType)
        all.append((name: "ETag", value: etag(document.version)))
        all.append(contentsOf: headers)
        return HTTPResponse(status: status, headers: all, body: Array(document.json.utf8))
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
