import Testing

@testable import HTTPServer

/// The arithmetic of libmicrohttpd 0.9.75's pool that decides which heads the server
/// refuses (the sizes themselves are swept against the real server in
/// Tests/integration/test_request_head_room.py).
@Suite struct RequestHeadRoomTests {
    @Test func aHeadHoldsItsBytesAlignedAndARecordPerFieldAndCookie() {
        let plain = RequestHeadRoom(headBytes: 1000, fields: 5, cookies: 0, cookieFieldBytes: 0)
        #expect(plain.used == 1008 + 5 * 64)
        #expect(plain.left(ofPool: 12288) == 12288 - 1328)
        // The Cookie field is copied once more, and each cookie has a record.
        let cookies = RequestHeadRoom(headBytes: 1000, fields: 5, cookies: 3, cookieFieldBytes: 40)
        #expect(cookies.used == 1008 + 8 * 64 + 48)
    }

    @Test func theHeadIsMeasuredFromTheAddressesItWasReadAt() {
        let headers = [(name: "Host", value: "x")]
        // "GET " before the target at 1000; the last field ends at 1900 (padding counts).
        let measured = RequestHeadRoom.headBytes(
            method: "GET", target: "/todos", version: "HTTP/1.1", targetAddress: 1000, headEnd: 1900,
            headers: headers, poolBytes: 12288)
        #expect(measured == 1900 - 996 + 4)
        // An end not past the target, outside the pool, or none: the parts' lengths.
        let summed = 4 + 6 + 1 + 8 + 4 + (4 + 2 + 1 + 2)
        for end: UInt in [1004, 1000 + 20000, 0] {
            let bytes = RequestHeadRoom.headBytes(
                method: "GET", target: "/todos", version: "HTTP/1.1", targetAddress: 1000, headEnd: end,
                headers: headers, poolBytes: 12288)
            #expect(bytes == summed, "end \(end)")
        }
    }

    @Test func anAnswerHeadCountsItsHeadersAndLibmicrohttpdsOwn() {
        let response = HTTPResponse(status: 200, headers: [("Link", String(repeating: "l", count: 500)), ("Vary", "Accept")])
        #expect(RequestHeadRoom.answerHeadBytes(response) == 160 + (4 + 2 + 500 + 2) + (4 + 2 + 6 + 2))
    }
}
