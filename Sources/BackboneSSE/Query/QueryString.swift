import DocumentStore

/// A query string split into decoded `(name, value)` pairs, in order. `+` is a space
/// (as jQuery's `$.param` writes it); a bad percent escape, invalid UTF-8 or a NUL
/// (`%00`) is an error. A NUL would reach C as the end of the string: SQLite would bind
/// `a%00b` as `a`, and a path segment would name another document.
enum QueryString {
    /// Where the encoded text came from, for the error: its words and its code.
    enum Source {
        case query, path, form

        var words: String {
            switch self {
            case .query: "the query string"
            case .path: "the path"
            case .form: "the form body"
            }
        }

        var code: String { self == .form ? "bad_body" : "bad_request" }
    }

    static func parse(_ raw: Substring, from source: Source = .query) throws(APIError) -> [(name: String, value: String)] {
        var pairs: [(name: String, value: String)] = []
        try forEachPart(of: raw, separatedBy: UInt8(ascii: "&")) { (part) throws(APIError) in
            let name: Substring
            let value: Substring
            if let eq = part.utf8.firstIndex(of: UInt8(ascii: "=")) {
                name = part[..<eq]
                value = part[part.utf8.index(after: eq)...]
            } else {
                name = part
                value = ""
            }
            pairs.append((try decode(name, from: source), try decode(value, from: source)))
        }
        return pairs
    }

    /// Calls `body` with each non-empty part of `text` between `separator` bytes, in
    /// order. `split` would first build an array of the parts: an allocation on every
    /// request for its path.
    static func forEachPart(
        of text: Substring, separatedBy separator: UInt8, _ body: (Substring) throws(APIError) -> Void
    ) throws(APIError) {
        let utf8 = text.utf8
        var start = utf8.startIndex
        while start != utf8.endIndex {
            let end = utf8[start...].firstIndex(of: separator) ?? utf8.endIndex
            if end != start { try body(text[start..<end]) }
            start = end == utf8.endIndex ? end : utf8.index(after: end)
        }
    }

    static func decode(_ s: Substring, from source: Source = .query) throws(APIError) -> String {
        let utf8 = s.utf8
        if !utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") || $0 == 0 }) { return String(s) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var i = utf8.startIndex
        while i != utf8.endIndex {
            let b = utf8[i]
            if b == UInt8(ascii: "+") {
                bytes.append(0x20)
            } else if b == UInt8(ascii: "%") {
                let h1 = utf8.index(after: i)
                guard h1 != utf8.endIndex, let hi = hex(utf8[h1]) else { throw badEscape(source) }
                let h2 = utf8.index(after: h1)
                guard h2 != utf8.endIndex, let lo = hex(utf8[h2]) else { throw badEscape(source) }
                bytes.append(hi << 4 | lo)
                i = h2
            } else {
                bytes.append(b)
            }
            i = utf8.index(after: i)
        }
        if bytes.contains(0) {
            throw .badRequest("\(source.words) contains a NUL character (%00)", code: source.code)
        }
        guard let decoded = String(utf8Validating: bytes) else {
            throw .badRequest("\(source.words) is not valid UTF-8", code: source.code)
        }
        return decoded
    }

    private static func badEscape(_ source: Source) -> APIError {
        .badRequest("bad percent-escape in \(source.words)", code: source.code)
    }

    private static func hex(_ b: UInt8) -> UInt8? {
        switch b {
        case 0x30...0x39: return b - 0x30
        case 0x41...0x46: return b - 0x41 + 10
        case 0x61...0x66: return b - 0x61 + 10
        default: return nil
        }
    }
}
