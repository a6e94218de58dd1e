import CMicroHTTPD
import Glibc

extension MicroHTTPDServer {
    /// The room a request's head leaves in libmicrohttpd's pool, right after its header
    /// fields are collected (`Exchange.lastField` is still valid).
    func headRoom(_ exchange: Exchange, connection: OpaquePointer) -> RequestHeadRoom {
        let pool = configuration.connectionMemoryLimit
        // Counted only when there is a `Cookie` field: libmicrohttpd splits no other.
        let hasCookie = exchange.cookieFieldBytes >= 0
        let cookies = hasCookie ? Int(max(0, MHD_get_connection_values(connection, .COOKIE_KIND, nil, nil))) : 0
        return RequestHeadRoom(
            headBytes: RequestHeadRoom.headBytes(
                method: exchange.method, target: exchange.target, version: exchange.version,
                targetAddress: exchange.targetAddress, headEnd: exchange.lastField.map { UInt(bitPattern: $0) + UInt(strlen($0)) } ?? 0,
                headers: exchange.headers,
                poolBytes: pool),
            fields: exchange.headers.count, cookies: cookies, cookieFieldBytes: max(0, exchange.cookieFieldBytes))
    }

    /// Refuses a head that leaves too little room for any answer: 414 when the target
    /// is most of it, else 431.
    func refuseLargeHead(_ exchange: Exchange, _ room: RequestHeadRoom, connection: OpaquePointer) -> MHD_Result {
        let targetIsMost = exchange.target.utf8.count * 2 > room.headBytes
        let what = targetIsMost ? "the request target is" : "the request's header fields are"
        let message =
            "\(what) too large: the request line and headers take \(room.used) of the "
            + "\(configuration.connectionMemoryLimit) bytes a connection has for them, leaving less than "
            + "the \(RequestHeadRoom.answerReserve) its answer needs"
        let code = targetIsMost ? "uri_too_long" : "header_fields_too_large"
        return answerWithoutRoom(exchange, status: targetIsMost ? 414 : 431, code: code, message: message, connection: connection)
    }

    /// Queues an answer whose head does not fit in what the request's head left of the
    /// pool: without the headers it lets the server leave out, or, if it does not fit
    /// even so, a 431 written to the socket.
    func queueWithoutRoom(_ response: HTTPResponse, for exchange: Exchange, on connection: OpaquePointer) -> MHD_Result {
        var trimmed = response
        trimmed.headers.removeAll { header in response.omittable.contains { headerNamesEqual($0, header.name) } }
        let bytes = RequestHeadRoom.answerHeadBytes(trimmed)
        if bytes <= exchange.answerRoom { return queue(trimmed, for: exchange, on: connection) }
        logger.warning("answer head larger than the room left", metadata: ["http.status": "\(response.status)", "bytes": "\(bytes)"])
        let message =
            "the answer's headers (\(bytes) bytes) do not fit in what the request's line and headers "
            + "leave of the \(configuration.connectionMemoryLimit) bytes a connection has for them"
        return answerWithoutRoom(exchange, status: 431, code: "header_fields_too_large", message: message, connection: connection)
    }

    /// Answers with a JSON error written straight to the socket and closes the
    /// connection, because libmicrohttpd has no room to write even this answer's head
    /// (and nothing of its own is pending on the socket: no answer was queued for this
    /// request). Only plain TCP: this server does not speak TLS itself.
    func answerWithoutRoom(
        _ exchange: Exchange, status: Int, code: String, message: String, connection: OpaquePointer
    ) -> MHD_Result {
        let response = errorResponse(status, code, message, exchange.headers)
        let reason = MHD_get_reason_phrase_for(UInt32(status)).map { String(cString: $0) } ?? ""
        var head = "HTTP/1.1 \(status) \(reason)\r\n"
        for (name, value) in response.headers { head += "\(name): \(value)\r\n" }
        head += "Content-Length: \(response.body.count)\r\nConnection: close\r\n\r\n"
        let bytes = Array(head.utf8) + (exchange.method == "HEAD" ? [] : response.body)  // HEAD: the length only
        let fd = CMHD_connection_fd(connection)
        // An idle socket's send buffer takes a few hundred bytes at once: one call.
        if fd >= 0 { _ = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        exchange.phase = .finished
        exchange.status = status
        exchange.logFields = response.logFields
        return .NO  // libmicrohttpd closes the connection; the request ends as answered
    }
}
