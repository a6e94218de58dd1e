import CMicroHTTPD
import Logging

// libmicrohttpd's callbacks. They are top-level functions (not closures) so that C can
// call them on its own threads, and they reach Swift objects through `Unmanaged`.

/// The request line has arrived: create the request's `Exchange`, which libmicrohttpd
/// then hands to every later callback of this request.
func cmhdRequestStarted(
    cls: UnsafeMutableRawPointer?, uri: UnsafePointer<CChar>?, connection: OpaquePointer?
) -> UnsafeMutableRawPointer? {
    let target = uri.map { String(cString: $0) } ?? "/"
    return Unmanaged.passRetained(Exchange(target: target)).toOpaque()
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
    if exchange.phase == .headers, let method { exchange.method = String(cString: method) }
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
    server.finished(exchange, completedOK: termination == .REQUEST_TERMINATED_COMPLETED_OK)
}

func cmhdCollectHeader(
    cls: UnsafeMutableRawPointer?, kind: MHD_ValueKind, key: UnsafePointer<CChar>?,
    value: UnsafePointer<CChar>?
) -> MHD_Result {
    guard let cls, let key else { return .YES }
    let exchange = Unmanaged<Exchange>.fromOpaque(cls).takeUnretainedValue()
    exchange.headers.append((String(cString: key), value.map { String(cString: $0) } ?? ""))
    return .YES
}

func cmhdLog(cls: UnsafeMutableRawPointer?, message: UnsafePointer<CChar>?) {
    guard let cls, let message else { return }
    let server = Unmanaged<MicroHTTPDServer>.fromOpaque(cls).takeUnretainedValue()
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
