/// Everything the server keeps about one request while libmicrohttpd works on it.
/// Created when the request line arrives (URI log callback), released when the
/// request completes. Only libmicrohttpd's thread for the connection touches the
/// mutable parts, one call at a time.
final class Exchange {
    enum Phase {
        case headers
        case body
        case handling
        case finished
    }

    let target: String
    /// Where libmicrohttpd's copy of the target starts (0 if it sent none): the access
    /// handler compares it with its `url` to find a target cut by a NUL byte.
    let targetAddress: UInt
    let startedAt: ContinuousClock.Instant = .now
    var phase: Phase = .headers
    var method = ""
    var version = ""
    /// Unchecked: only the connection's thread touches it, one call at a time (above),
    /// and the dynamic check cost more than the append for each header collected.
    @exclusivity(unchecked) var headers: [(name: String, value: String)] = []
    /// The last header field's value in libmicrohttpd's read buffer, to measure the head
    /// as it was read (`RequestHeadRoom`); valid only while its headers are collected.
    var lastField: UnsafePointer<CChar>?
    /// The first `Cookie` field's length, -1 without one.
    var cookieFieldBytes = -1
    /// Bytes the answer's head may take in libmicrohttpd's pool (set with the headers).
    var answerRoom = Int.max
    var body: [UInt8] = []
    /// Bytes of a too-large chunked body read and thrown away.
    var discarded = 0
    var responder: Responder?
    /// Counted among the requests `stop` waits for (from its headers until its answer
    /// is sent; see `MicroHTTPDServer.release`).
    var admitted = false
    var status = 0
    /// The peer's address (set when the handler is called) and the answer's `logFields`,
    /// for the request's log line.
    var clientAddress = ""
    var logFields: [(name: String, value: String)] = []
    /// Work the handler deferred until the answer is sent (`AfterResponse`).
    var afterResponse: [@Sendable () -> Void] = []
    /// `X-Client-Id`, kept for the log line when the headers are let go early.
    var clientID: String?
    /// The answer's body, when it is a stream.
    var stream: ResponseStream?

    /// A stream's exchange lives as long as the stream: keep only what its log line
    /// needs, not the request's headers (a browser's come to a kilobyte or more).
    func keepOnlyWhatTheLogNeeds() {
        clientID = headers.value(of: "X-Client-Id")
        headers = []
        body = []
        responder = nil
    }

    init(target: String, targetAddress: UInt = 0) {
        self.target = target
        self.targetAddress = targetAddress
    }
}
