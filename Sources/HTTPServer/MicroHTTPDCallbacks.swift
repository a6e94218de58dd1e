import CMicroHTTPD
import Logging

// libmicrohttpd's callbacks. They are top-level functions (not closures) so that C can
// call them on its own threads, and they reach Swift objects through `Unmanaged`.

/// The request line has arrived: create the request's `Exchange`, which libmicrohttpd
/// then hands to every later callback of this request.
func cmhdRequestStarted(
    cls: UnsafeMutableRawPointer?, uri: UnsafePointer<CChar>?, connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    guard let uri else { return Unmanaged.passRetained(Exchange(target: "/")).toOpaque() }
    let target = String(cString: uri)
    skipArgumentTable(uri, length: target.utf8.count)
    return Unmanaged.passRetained(Exchange(target: target, targetAddress: UInt(bitPattern: uri))).toOpaque()
}

/// Keeps libmicrohttpd from splitting the query into its table of GET arguments: the
/// app parses `target` itself and never reads that table.
///
/// libmicrohttpd 0.9.75 calls this callback on the request line in its read buffer,
/// then writes NUL over the `?` and parses what follows into records of its
/// per-connection pool (some 50 bytes each). Past about 150 parameters the pool runs
/// out: it logs a 431 but, its parser ignoring the failure, goes on waiting for
/// headers on a connection it has marked read-closed, and the client hears nothing
/// until the connection timeout (120 s). With a NUL written just after the `?` the
/// argument string it parses is empty. `uri` points into that mutable buffer (the
/// parameter is `const` in the API only); the byte written is inside the target
/// (`length` bytes, then the NUL that ends it).
private func skipArgumentTable(_ uri: UnsafePointer<CChar>, length: Int) {
    let bytes = UnsafeRawPointer(uri).assumingMemoryBound(to: UInt8.self)
    guard let q = UnsafeBufferPointer(start: bytes, count: length).firstIndex(of: UInt8(ascii: "?")) else { return }
    UnsafeMutablePointer(mutating: uri)[q + 1] = 0
}

/// Whether libmicrohttpd's `url` holds a NUL byte before its end: the request line
/// `GET /index.html\0.php HTTP/1.1` reaches Swift as the C string `/index.html`.
/// libmicrohttpd 0.9.75 passes no length, but `url` and `version` point into the one
/// request line (`<url> <version>`), so the gap between them is the target's length.
/// Only addresses are compared; nothing past the C string is read.
func targetCutByNUL(_ exchange: Exchange, url: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?) -> Bool {
    guard let url, let version, exchange.targetAddress == UInt(bitPattern: url),
        strncmp(version, "HTTP/", 5) == 0
    else { return false }
    let span = Int(bitPattern: UInt(bitPattern: version)) - Int(bitPattern: UInt(bitPattern: url)) - 1
    return span > exchange.target.utf8.count && span < 1 << 20
}

func cmhdAccessHandler(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?, url: UnsafePointer<CChar>?,
    method: UnsafePointer<CChar>?, version: UnsafePointer<CChar>?,
    uploadData: UnsafePointer<CChar>?, uploadDataSize: UnsafeMutablePointer<Int>?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> MHD_Result {
    guard let cls, let connection, let requestContext, let raw = requestContext.pointee else {
        return .NO
    }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
    let exchange = Unmanaged<Exchange>.fromOpaque(raw).takeUnretainedValue()
    if exchange.phase == .headers {
        if let method { exchange.method = String(cString: method) }
        if let version { exchange.version = String(cString: version) }
        if targetCutByNUL(exchange, url: url, version: version) {
            return server.reject(exchange, .targetWithNUL, connection: connection)
        }
    }
    return server.advance(
        exchange, connection: connection, uploadData: uploadData,
        uploadDataSize: uploadDataSize)
}

func cmhdRequestCompleted(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
    termination: MHD_RequestTerminationCode
) {
    guard let cls, let requestContext, let raw = requestContext.pointee else { return }
    requestContext.pointee = nil
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
    let exchange = Unmanaged<Exchange>.fromOpaque(raw).takeRetainedValue()
    if let stream = exchange.stream, stream.isHandedOff {
        // libmicrohttpd let go of a stream that goes on on its own socket: the request
        // is over when the stream is. From here only that end touches the exchange.
        // (The connection's clock stays stopped: the connection closes now.)
        let handedOver = HandedOverExchange(exchange: exchange)
        stream.whenClosed { server.finished(handedOver.exchange, completedOK: true) }
        return
    }
    if let connection { connectionClock(connection)?.awaitNextRequest() }
    server.finished(exchange, completedOK: termination == .REQUEST_TERMINATED_COMPLETED_OK)
}

/// An exchange passed from libmicrohttpd's thread to whichever thread ends its stream:
/// the one touches it no more once it has handed it over.
private struct HandedOverExchange: @unchecked Sendable {
    let exchange: Exchange
}

/// A connection opened or closed (registered only when requests have a time limit or
/// addresses a connection cap): its `ConnectionClock` lives in libmicrohttpd's socket
/// context meanwhile.
func cmhdConnectionNotified(
    cls: UnsafeMutableRawPointer?, connection: OpaquePointer?,
    socketContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>?, code: MHD_ConnectionNotificationCode
) {
    guard let cls, let connection, let socketContext else { return }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
    if code == .CONNECTION_NOTIFY_STARTED {
        let clock = ConnectionClock(fd: CMHD_connection_fd(connection), clientAddress: MicroHTTPDServer.clientAddress(connection))
        server.watch?.opened(clock)
        server.perAddress?.opened(clock.clientAddress)
        socketContext.pointee = Unmanaged.passRetained(clock).toOpaque()
    } else if let raw = socketContext.pointee {
        socketContext.pointee = nil
        let clock = Unmanaged<ConnectionClock>.fromOpaque(raw).takeRetainedValue()
        server.watch?.closed(clock)
        if !clock.placeHeldByStream.load(ordering: .relaxed) { server.perAddress?.closed(clock.clientAddress) }
    }
}

/// A connection was accepted: keep it only if its address is under the cap
/// (registered only with a per-address cap); libmicrohttpd closes a refused one at once.
func cmhdAcceptPolicy(cls: UnsafeMutableRawPointer?, address: UnsafePointer<sockaddr>?, length: socklen_t) -> MHD_Result {
    guard let cls, let address else { return .YES }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
    guard let perAddress = server.perAddress else { return .YES }
    if perAddress.admits(MicroHTTPDServer.addressText(address)) { return .YES }
    server.limits.note(.connectionLimit)
    return .NO
}

/// The clock of a connection, if requests have a time limit.
func connectionClock(_ connection: OpaquePointer) -> ConnectionClock? {
    guard let raw = CMHD_socket_context(connection) else { return nil }
    return Unmanaged<ConnectionClock>.fromOpaque(raw).takeUnretainedValue()
}

func cmhdCollectHeader(
    cls: UnsafeMutableRawPointer?, kind: MHD_ValueKind, key: UnsafePointer<CChar>?,
    value: UnsafePointer<CChar>?
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let exchange = Unmanaged<Exchange>.fromOpaque(cls).takeUnretainedValue()
    let keyLength = strlen(key)
    let name = CommonHeaderName.name(key, length: keyLength) ?? String(cString: key)
    let text = value.map { String(cString: $0) } ?? ""
    exchange.headers.append((name, text))
    exchange.lastField = value ?? key  // fields come in the order they were read
    // The first `Cookie` is the one libmicrohttpd copies and splits (`RequestHeadRoom`).
    if keyLength == 6, exchange.cookieFieldBytes < 0, headerNamesEqual(name, "Cookie") {
        exchange.cookieFieldBytes = text.utf8.count
    }
    return .YES
}

func cmhdLog(cls: UnsafeMutableRawPointer?, message: UnsafePointer<CChar>?) {
    guard let cls, let message else { return }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
    // libmicrohttpd tells of a refused connection only by this message (its total
    // limit; the per-address cap is the server's, `cmhdAcceptPolicy`).
    if strncmp(message, "Server reached connection limit", 31) == 0 {
        server.limits.note(.connectionLimit)
        return
    }
    // Every stream handed off (`StreamSocketLoop`) ends libmicrohttpd's response so.
    if strncmp(message, "Closing connection (application error generating response)", 58) == 0 { return }
    server.logger.debug("libmicrohttpd", metadata: ["mhd.message": "\(String(cString: message))"])
}

/// libmicrohttpd wants more of a streamed body.
func cmhdStreamRead(cls: UnsafeMutableRawPointer?, position: UInt64, buffer: UnsafeMutablePointer<CChar>?, max: Int) -> Int {
    guard let cls, let buffer else { return -2 }
    return Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue().read(into: buffer, max: max)
}

/// libmicrohttpd is done with a streamed body: release the reference it held.
func cmhdStreamEnded(cls: UnsafeMutableRawPointer?) {
    guard let cls else { return }
    Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().ended()
}
