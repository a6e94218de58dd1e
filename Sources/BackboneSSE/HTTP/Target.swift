import Foundation
import HTTPServer

/// A request target split into decoded path segments and query pairs. Segments are
/// decoded one by one, so `%2F` stays inside its segment (and makes an invalid id).
struct Target {
    let path: String
    let segments: [String]
    let query: [(name: String, value: String)]

    /// The target of a request that could not be read.
    static let empty = Target(path: "", segments: [], query: [])

    private init(path: String, segments: [String], query: [(name: String, value: String)]) {
        self.path = path
        self.segments = segments
        self.query = query
    }

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
        segments.reserveCapacity(4)
        // Bytes, not Characters: splitting by grapheme cost more than the rest of routing.
        try QueryString.forEachPart(of: rawPath, separatedBy: UInt8(ascii: "/")) { (raw) throws(APIError) in
            segments.append(try QueryString.decodePathSegment(raw))
        }
        self.segments = segments
        query = try QueryString.parse(request.rawQuery)
    }

    /// The last value of a query parameter.
    func parameter(_ name: String) -> String? {
        query.last { $0.name == name }?.value
    }
}

extension QueryString {
    /// A path segment: percent-decoding only (`+` is a plus in a path).
    static func decodePathSegment(_ s: Substring) throws(APIError) -> String {
        guard s.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == 0 }) else { return String(s) }
        return try decode(Substring(s.replacingOccurrences(of: "+", with: "%2B")), from: .path)
    }
}
