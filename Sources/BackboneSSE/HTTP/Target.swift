import Foundation
import HTTPServer

/// A request target split into decoded path segments and query pairs. Segments are
/// decoded one by one, so `%2F` stays inside its segment (and makes an invalid id).
struct Target {
    let path: String
    let segments: [String]
    let query: [(name: String, value: String)]

    init(_ request: HTTPRequest) throws(APIError) {
        let rawPath = request.rawPath
        guard rawPath.hasPrefix("/") else {
            throw .badRequest("the request target must be a path", code: "bad_target")
        }
        guard rawPath.utf8.count <= 4096 else {
            throw .badRequest("the path is longer than 4096 bytes", code: "bad_target")
        }
        path = String(rawPath)
        var segments: [String] = []
        // Bytes, not Characters: splitting by grapheme cost more than the rest of routing.
        for raw in rawPath.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            segments.append(try QueryString.decodePathSegment(Substring(raw)))
        }
        self.segments = segments
        query = try QueryString.parse(request.rawQuery)
    }

    /// The last value of a query parameter.
    func parameter(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }

    static let systemPaths: Set<String> = ["healthz", "metrics", "openapi.yaml", "events", "backbone-sse.js"]

    /// The route template, for metrics labels and `Allow`.
    func routeLabel(_ services: [String: CollectionService]) -> String {
        switch segments.count {
        case 1 where Self.systemPaths.contains(segments[0]): return "/" + segments[0]
        case 1 where services[segments[0]] != nil: return "/{collection}"
        case 2 where services[segments[0]] != nil: return "/{collection}/{id}"
        default: return "static"
        }
    }
}

extension QueryString {
    /// A path segment: percent-decoding only (`+` is a plus in a path).
    static func decodePathSegment(_ s: Substring) throws(APIError) -> String {
        guard s.utf8.contains(UInt8(ascii: "%")) else { return String(s) }
        return try decode(Substring(s.replacingOccurrences(of: "+", with: "%2B")), from: .path)
    }
}
