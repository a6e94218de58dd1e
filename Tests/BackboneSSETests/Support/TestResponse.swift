import DocumentStore
import Foundation
import Testing

@testable import HTTPServer

/// What the app answered, with the reading conveniences of the pytest suite.
struct TestResponse: Sendable {
    let response: HTTPResponse

    init(_ response: HTTPResponse) {
        self.response = response
    }

    var status: Int { response.status }
    var body: [UInt8] { response.body }
    var text: String { String(decoding: response.body, as: UTF8.self) }
    /// The stream of a `text/event-stream` answer (its content is pytest's business).
    var stream: ResponseStream? { response.stream }

    /// The first value of a header, by case-insensitive name.
    func header(_ name: String) -> String? { response.header(name) }

    /// Whether a header is present at all.
    func has(_ name: String) -> Bool { header(name) != nil }

    /// A comma-separated header (`Allow`) as a set of its items, as sent.
    func headerItems(_ name: String) -> Set<String> {
        Set((header(name) ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
    }

    /// A comma-separated header (`Access-Control-*`) as a set of lower-cased items.
    func headerSet(_ name: String) -> Set<String> {
        Set(headerItems(name).map { $0.lowercased() })
    }

    /// The body parsed as JSON; nil when it is not JSON.
    var json: JSON? { try? JSONParser.parse(response.body) }
    var object: JSONObject? { json?.objectValue }
    var array: [JSON]? { json?.arrayValue }

    /// `error` of an error body.
    var error: JSONObject? { object?["error"]?.objectValue }
    /// `error.code` of an error body.
    var errorCode: String? { error?["code"]?.stringValue }

    /// Ends a stream as a closed connection would, so that the app's shutdown does not
    /// wait for it.
    func closeStream() {
        guard let stream else { return }
        _ = stream.abort()
        stream.ended()
    }
}
