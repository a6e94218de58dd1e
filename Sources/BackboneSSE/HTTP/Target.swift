import Foundation
import HTTPServer

/// A request target split into decoded path segments and query pairs. Segments are
/// decoded one by one, so `%2F` stays inside its segment (and makes an invalid id).
struct Target {
    let segments: [String]
    let query: [(name: String, value: String)]
    /// The target as sent, and where its path ends: the path is made only when asked
    /// for (few requests do), not on every request.
    private let raw: String
    private let pathEnd: Int

    /// The path, undecoded.
    var path: String { String(decoding: raw.utf8.prefix(pathEnd), as: UTF8.self) }

    /// The target of a request that could not be read.
    static let empty = Target(raw: "", pathEnd: 0, segments: [], query: [])

    private init(raw: String, pathEnd: Int, segments: [String], query: [(name: String, value: String)]) {
        self.raw = raw
        self.pathEnd = pathEnd
        self.segments = segments
        self.query = query
    }

    init(_ request: HTTPRequest) throws(APIError) {
        var target = request.target
        // One pass over the bytes (this runs on every request): where the path ends, and
        // each of its segments, made straight from the bytes unless it needs decoding
        // (it holds a `%` or a NUL). Indexing the `Substring`s of the target cost
        // more than the rest of routing.
        // Segments that need decoding are left empty here and named in `encoded`, which
        // stays empty (no allocation) for almost every request.
        let (pathEnd, plainSegments, encoded) = target.withUTF8 {
            bytes -> (Int, [String], [(index: Int, range: Range<Int>)]) in
            let pathEnd = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
            var segments: [String] = []
            segments.reserveCapacity(4)
            var encoded: [(index: Int, range: Range<Int>)] = []
            var start = 0
            while start < pathEnd {
                var end = start
                var plain = true
                while end < pathEnd, bytes[end] != UInt8(ascii: "/") {
                    if bytes[end] == UInt8(ascii: "%") || bytes[end] == 0 { plain = false }
                    end += 1
                }
                if end > start {
                    if plain {
                        segments.append(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self))
                    } else {
                        encoded.append((segments.count, start..<end))
                        segments.append("")
                    }
                }
                start = end + 1
            }
            return (pathEnd, segments, encoded)
        }
        guard target.utf8.first == UInt8(ascii: "/") else {
            throw .badRequest("the request target must be a path", code: "bad_target")
        }
        guard pathEnd <= 4096 else {
            throw .badRequest("the path is longer than 4096 bytes", code: "bad_target")
        }
        let utf8 = target.utf8
        func index(_ offset: Int) -> String.Index { utf8.index(utf8.startIndex, offsetBy: offset) }
        (raw, self.pathEnd) = (target, pathEnd)
        var segments = plainSegments
        for (at, range) in encoded {
            segments[at] = try QueryString.decodePathSegment(target[index(range.lowerBound)..<index(range.upperBound)])
        }
        self.segments = segments
        query = pathEnd < utf8.count ? try QueryString.parse(target[index(pathEnd + 1)...]) : []
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
