import Testing

@testable import HTTPServer

@Suite struct RequestFramingTests {
    private func problem(_ headers: [(String, String)], version: String = "HTTP/1.1") -> RequestFraming.Problem? {
        RequestFraming.problem(headers: headers.map { (name: $0.0, value: $0.1) }, version: version)
    }

    @Test func anOrdinaryRequestPasses() {
        #expect(problem([("Host", "x"), ("Content-Length", "12")]) == nil)
        #expect(problem([("host", "x"), ("Transfer-Encoding", " Chunked ")]) == nil)
        #expect(problem([("Host", "x"), ("Content-Length", "12"), ("content-length", "12")]) == nil)
    }

    @Test func hostIsNeededOnceFromHTTP11() {
        #expect(problem([]) == .host)
        #expect(problem([("Host", "a"), ("HOST", "b")]) == .host)
        #expect(problem([], version: "HTTP/1.0") == nil)
    }

    @Test func twoFramingsOfOneBodyAreRefused() {
        #expect(problem([("Host", "x"), ("Content-Length", "12"), ("Content-Length", "2")]) == .conflictingLength)
        #expect(problem([("Host", "x"), ("Content-Length", "12"), ("Transfer-Encoding", "chunked")]) == .lengthWithTransferEncoding)
        #expect(problem([("Host", "x"), ("Transfer-Encoding", "chunked"), ("Content-Length", "12")]) == .lengthWithTransferEncoding)
    }

    @Test func onlyChunkedAloneIsDecoded() {
        #expect(problem([("Host", "x"), ("Transfer-Encoding", "gzip, chunked")]) == .unsupportedTransferEncoding)
        #expect(problem([("Host", "x"), ("Transfer-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]) == .unsupportedTransferEncoding)
        #expect(problem([("Host", "x"), ("Transfer-Encoding", "identity")]) == .unsupportedTransferEncoding)
    }
}
