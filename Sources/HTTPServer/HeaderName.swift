import Glibc

/// Header names compare without regard to ASCII case (RFC 9110 §5.1). Done on bytes:
/// Foundation's `caseInsensitiveCompare` goes through locale-aware CFString code and
/// showed up in profiles of the request path.
public func headerNamesEqual(_ a: String, _ b: String) -> Bool {
    let (x, y) = (a.utf8, b.utf8)
    // Most names looked up are not the one compared with, and differ in length.
    guard x.count == y.count else { return false }
    let buffers = x.withContiguousStorageIfAvailable { p in y.withContiguousStorageIfAvailable { q in sameLetters(p, q) } }
    return (buffers ?? nil) ?? sameLetters(Array(x), Array(y))
}

private func sameLetters<Bytes: RandomAccessCollection<UInt8>>(_ a: Bytes, _ b: Bytes) -> Bool where Bytes.Index == Int {
    for i in 0..<a.count where a[a.startIndex + i] != b[b.startIndex + i] {
        let lower = a[a.startIndex + i] | 0x20
        guard lower == b[b.startIndex + i] | 0x20, lower >= UInt8(ascii: "a"), lower <= UInt8(ascii: "z") else { return false }
    }
    return true
}

extension Array where Element == (name: String, value: String) {
    /// The first value of a header, by case-insensitive name.
    public func value(of name: String) -> String? {
        first { headerNamesEqual($0.name, name) }?.value
    }
}

/// The header names browsers and clients send most, spelled as they send them: a name
/// read from libmicrohttpd that is one of these becomes this constant string instead of
/// a new one (no UTF-8 check, no copy, nothing to release). A browser sends a dozen or
/// more fields with every request.
enum CommonHeaderName {
    private static let byLength: [[(name: String, bytes: [CChar])]] = {
        let names = [
            "Host", "Connection", "Accept", "Accept-Encoding", "Accept-Language", "User-Agent", "Cookie", "Referer",
            "Origin", "Content-Type", "Content-Length", "Authorization", "Cache-Control", "Pragma", "If-None-Match",
            "If-Match", "X-Requested-With", "X-Client-Id", "X-Request-Id", "Last-Event-ID", "Transfer-Encoding",
            "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-User", "sec-ch-ua", "sec-ch-ua-mobile",
            "sec-ch-ua-platform", "Upgrade-Insecure-Requests", "Priority", "DNT", "X-Forwarded-For", "X-Forwarded-Proto",
            "X-Real-IP", "Forwarded", "X-HTTP-Method-Override", "Access-Control-Request-Method",
            "Access-Control-Request-Headers", "accept", "accept-encoding", "user-agent", "host", "content-type",
            "content-length", "authorization", "cookie", "origin", "referer", "connection", "cache-control",
        ]
        var table = [[(name: String, bytes: [CChar])]](repeating: [], count: 32)
        for name in names { table[name.utf8.count].append((name, name.utf8.map { CChar(bitPattern: $0) })) }
        return table
    }()

    /// The constant for `key` (`length` bytes), or nil when it is not a common name.
    static func name(_ key: UnsafePointer<CChar>, length: Int) -> String? {
        guard length < byLength.count else { return nil }
        for candidate in byLength[length] where candidate.bytes[0] == key[0] {
            if candidate.bytes.withUnsafeBufferPointer({ memcmp($0.baseAddress!, key, length) }) == 0 { return candidate.name }
        }
        return nil
    }
}
