/// What is left of libmicrohttpd's per-connection pool once a request's head is in, for
/// the answer's status line and headers.
///
/// libmicrohttpd 0.9.75 keeps the head where it read it and adds, in the same pool, a
/// record for each header field and each cookie and a copy of the `Cookie` field (which
/// it splits into cookies in place). It takes any head that fits, and only when it
/// writes the answer's headers into what is left does it find no room: it then closes
/// the connection without a word. So a head within a few hundred bytes of the pool's
/// size (a `Cookie` within about a hundred, its bytes counting twice) got no answer at
/// all. The server refuses a head that would leave less than `answerReserve` before the
/// app sees it (`MicroHTTPDServer.refuseLargeHead`).
struct RequestHeadRoom: Equatable {
    /// A header, cookie or argument record: `struct MHD_HTTP_Header` (56 bytes on a 64-bit
    /// machine) rounded up to the pool's alignment.
    static let recordBytes = 64
    /// Room kept for the largest answer head the app writes (a 201's `Location`, a list's
    /// `Link`, CORS headers echoing the `Origin`), with some to spare.
    static let answerReserve = 1024

    /// The request line and header lines as they were read, blank line included.
    let headBytes: Int
    let fields: Int
    let cookies: Int
    /// The first `Cookie` field's value (the only one libmicrohttpd copies and splits).
    let cookieFieldBytes: Int

    /// Pool bytes the request holds until its answer is sent.
    var used: Int {
        var bytes = Self.aligned(headBytes) + Self.recordBytes * (fields + cookies)
        if cookieFieldBytes > 0 { bytes += Self.aligned(cookieFieldBytes + 1) }
        return bytes
    }

    func left(ofPool poolBytes: Int) -> Int { poolBytes - used }

    /// The bytes libmicrohttpd writes for an answer's head: its headers, and at most this
    /// much of its own (status line, `Date`, `Content-Length` or `Transfer-Encoding`,
    /// `Connection`, the blank line).
    static func answerHeadBytes(_ response: HTTPResponse) -> Int { 160 + linesBytes(response.headers) }

    /// Header fields as lines: `name: value` and CRLF each.
    private static func linesBytes(_ headers: [(name: String, value: String)]) -> Int {
        headers.reduce(0) { $0 + $1.name.utf8.count + 2 + $1.value.utf8.count + 2 }
    }

    /// libmicrohttpd's pool hands out multiples of two pointers.
    private static func aligned(_ n: Int) -> Int { (n + 15) & ~15 }

    /// The head's length from the addresses of its parts, which libmicrohttpd parsed in
    /// place: from the request line's start (the method and a space before the target)
    /// to the end of the last header field read (`headEnd`), then the line's CRLF and
    /// the blank line. Whitespace around values and folded lines count, as they do in
    /// the pool. Without usable addresses (no target address, an end not past the
    /// target or outside the pool), the sum of the parts' lengths.
    static func headBytes(
        method: String, target: String, version: String, targetAddress: UInt, headEnd: UInt,
        headers: [(name: String, value: String)], poolBytes: Int
    ) -> Int {
        let prefix = UInt(method.utf8.count + 1)
        if targetAddress > prefix, headEnd > targetAddress + UInt(target.utf8.count) {
            let spanned = headEnd - (targetAddress - prefix)
            if spanned < UInt(poolBytes) { return Int(spanned) + 4 }
        }
        return method.utf8.count + 1 + target.utf8.count + 1 + version.utf8.count + 2 + linesBytes(headers) + 2
    }
}
