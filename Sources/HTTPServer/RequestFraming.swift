/// The checks on a request's head that a strict HTTP/1.1 server makes before it reads a
/// body (RFC 9112): each answers why a request is refused, or nil. Refusing, rather than
/// picking one reading, keeps this server and any proxy in front of it from disagreeing
/// about where a request ends or whom it is for (request smuggling).
enum RequestFraming {
    enum Problem: Equatable {
        /// Two `Content-Length` values that differ (§6.3).
        case conflictingLength
        /// `Content-Length` beside `Transfer-Encoding` (§6.1: may be refused; the
        /// connection must close either way, which libmicrohttpd does after an answer
        /// given before the body).
        case lengthWithTransferEncoding
        /// A transfer coding other than `chunked` alone: libmicrohttpd decodes no other.
        case unsupportedTransferEncoding
        /// HTTP/1.1 without `Host`, or with more than one (§3.2).
        case host

        var message: String {
            switch self {
            case .conflictingLength: "conflicting Content-Length headers"
            case .lengthWithTransferEncoding: "Content-Length and Transfer-Encoding in one request"
            case .unsupportedTransferEncoding: "only Transfer-Encoding: chunked is supported"
            case .host: "an HTTP/1.1 request needs exactly one Host header"
            }
        }
    }

    static func problem(headers: [(name: String, value: String)], version: String) -> Problem? {
        var length: String?
        var codings: [String] = []
        var hosts = 0
        // By length first: a browser sends a dozen fields or more, of which these are few.
        for header in headers {
            switch header.name.utf8.count {
            case 14 where headerNamesEqual(header.name, "Content-Length"):
                if let first = length, first != header.value { return .conflictingLength }
                length = header.value
            case 17 where headerNamesEqual(header.name, "Transfer-Encoding"):
                codings += header.value.split(separator: ",").map { $0.trimmingWhitespace().lowercased() }
            case 4 where headerNamesEqual(header.name, "Host"):
                hosts += 1
            default:
                break
            }
        }
        if !codings.isEmpty {
            if length != nil { return .lengthWithTransferEncoding }
            if codings != ["chunked"] { return .unsupportedTransferEncoding }
        }
        // HTTP/1.1 first: a plain comparison, where the prefix test cost more than the
        // rest of this check.
        let needsHost = version == "HTTP/1.1" || (version.hasPrefix("HTTP/1.") && version != "HTTP/1.0")
        if needsHost && hosts != 1 { return .host }
        return nil
    }
}

extension Substring {
    fileprivate func trimmingWhitespace() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
