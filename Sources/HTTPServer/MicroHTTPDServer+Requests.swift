import CMicroHTTPD
import Logging

extension MicroHTTPDServer {
    /// One access-handler call: headers first, then body chunks, then the handler.
    /// The answer is never queued on the first call: libmicrohttpd would close the
    /// connection after such an "early" response (the 0.9.75 keep-alive trap).
    func advance(
        _ exchange: Exchange, connection: OpaquePointer, uploadData: UnsafePointer<CChar>?,
        uploadDataSize: UnsafeMutablePointer<Int>?
    ) -> MHD_Result {
        let chunk = uploadDataSize?.pointee ?? 0
        switch exchange.phase {
        case .headers:
            exchange.phase = .body
            // Counted from its headers, so that `stop` also waits for a body still
            // arriving; a request that begins after `stop` is answered 503 once read.
            exchange.admitted = admission.withLock { $0.admit() }
            exchange.headers.reserveCapacity(16)  // one allocation, not one per doubling
            _ = MHD_get_connection_values(
                connection, .HEADER_KIND, cmhdCollectHeader,
                Unmanaged.passUnretained(exchange).toOpaque())
            // Measured first: any answer from here on, a refusal's too, must fit what is left.
            let room = headRoom(exchange, connection: connection)
            exchange.lastField = nil
            exchange.answerRoom = room.left(ofPool: configuration.connectionMemoryLimit)
            if exchange.answerRoom < RequestHeadRoom.answerReserve {
                return refuseLargeHead(exchange, room, connection: connection)
            }
            if let problem = RequestFraming.problem(headers: exchange.headers, version: exchange.version) {
                return reject(exchange, .framing(problem), connection: connection)
            }
            let length = exchange.headers.first { headerNamesEqual($0.name, "Content-Length") }?.value
            if let length = length.flatMap(Int.init), length > configuration.maxBodyBytes {
                // Refuse before reading: libmicrohttpd closes the connection after it.
                return reject(exchange, .bodyTooLarge, connection: connection)
            }
            return .YES
        case .body:
            if chunk > 0 {
                if exchange.discarded > 0 || exchange.body.count + chunk > configuration.maxBodyBytes {
                    // A chunked body past the limit (its size was not announced): an
                    // answer queued mid-upload is dropped unsent by libmicrohttpd, so
                    // read the rest away and answer 413 at the end. A body far past the
                    // limit is cut off instead.
                    exchange.discarded += exchange.body.count + chunk
                    exchange.body = []
                    uploadDataSize?.pointee = 0
                    return exchange.discarded > 64 * configuration.maxBodyBytes ? .NO : .YES
                }
                if let uploadData {
                    uploadData.withMemoryRebound(to: UInt8.self, capacity: chunk) {
                        exchange.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: chunk))
                    }
                }
                uploadDataSize?.pointee = 0
                return .YES
            }
            if exchange.discarded > 0 { return reject(exchange, .bodyTooLarge, connection: connection) }
            exchange.phase = .handling
            connectionClock(connection)?.requestReceived()
            return runHandler(exchange, connection: connection)
        case .handling:
            if chunk > 0 { uploadDataSize?.pointee = 0 }
            guard let response = exchange.responder?.takeResponse() else { return .YES }
            return queue(response, for: exchange, on: connection)
        case .finished:
            if chunk > 0 { uploadDataSize?.pointee = 0 }
            return .YES
        }
    }

    private func runHandler(_ exchange: Exchange, connection: OpaquePointer) -> MHD_Result {
        guard exchange.admitted else {
            var response = errorResponse(503, "shutting_down", "the server is stopping; retry shortly", exchange.headers)
            response.setHeader("Retry-After", "1")
            response.setHeader("Connection", "close")
            return queue(response, for: exchange, on: connection)
        }
        let responder = Responder(connection: ConnectionHandle(raw: connection))
        exchange.responder = responder
        exchange.clientAddress = connectionClock(connection)?.clientAddress ?? Self.clientAddress(connection)
        let request = HTTPRequest(
            method: exchange.method.isEmpty ? "GET" : exchange.method, target: exchange.target,
            headers: exchange.headers, body: exchange.body, startedAt: exchange.startedAt,
            clientAddress: exchange.clientAddress)
        exchange.body = []
        exchange.afterResponse = AfterResponse.collecting { handler(request, responder) }
        if let response = responder.handlerReturned(suspend: { MHD_suspend_connection(connection) }) {
            return queue(response, for: exchange, on: connection)
        }
        return .YES
    }

    /// The peer's address as text.
    static func clientAddress(_ connection: OpaquePointer) -> String {
        addressText { CMHD_client_address(connection, $0, $1) }
    }

    /// An accepted socket's address as text, formatted as `clientAddress` formats it.
    static func addressText(_ address: UnsafePointer<sockaddr>) -> String {
        addressText { CMHD_format_address(address, $0, $1) }
    }

    /// What `format` writes into a buffer of room for any address (INET6_ADDRSTRLEN is 46).
    private static func addressText(_ format: (UnsafeMutablePointer<CChar>, socklen_t) -> Void) -> String {
        withUnsafeTemporaryAllocation(of: CChar.self, capacity: 48) { buffer in
            format(buffer.baseAddress!, 48)
            return String(cString: buffer.baseAddress!)
        }
    }

    /// The request no longer holds up `stop`: its answer is sent, or it is gone (both in
    /// `finished`), or its answer is a stream (queued: ending streams before `stop` is
    /// the app's part). Not when a buffered answer is merely queued: `stop` would then
    /// stop the daemon before libmicrohttpd has written it.
    private func release(_ exchange: Exchange) {
        guard exchange.admitted else { return }
        exchange.admitted = false
        if admission.withLock({ $0.release() }) { drained.signal() }
    }

    /// Requests the server refuses before the app sees them.
    enum Refusal {
        case bodyTooLarge, targetWithNUL
        case framing(RequestFraming.Problem)
    }

    func reject(_ exchange: Exchange, _ refusal: Refusal, connection: OpaquePointer) -> MHD_Result {
        let response =
            switch refusal {
            case .bodyTooLarge:
                errorResponse(413, "body_too_large", "request body is larger than \(configuration.maxBodyBytes) bytes", exchange.headers)
            case .framing(let problem): errorResponse(400, "bad_request", problem.message, exchange.headers)
            case .targetWithNUL: errorResponse(400, "bad_request", "the request target contains a NUL byte", exchange.headers)
            }
        return queue(response, for: exchange, on: connection)
    }

    func queue(
        _ response: HTTPResponse, for exchange: Exchange, on connection: OpaquePointer
    )
        -> MHD_Result
    {
        if RequestHeadRoom.answerHeadBytes(response) > exchange.answerRoom {
            return queueWithoutRoom(response, for: exchange, on: connection)
        }
        exchange.phase = .finished
        exchange.status = response.status
        exchange.logFields = response.logFields
        connectionClock(connection)?.requestReceived()
        let mhdResponse: OpaquePointer?
        if let stream = response.stream {
            release(exchange)
            exchange.keepOnlyWhatTheLogNeeds()
            exchange.stream = stream
            // libmicrohttpd chunks the body for HTTP/1.1 and later (1.x), not for 1.0.
            stream.attach(
                ConnectionHandle(raw: connection), handOffTo: streamSockets,
                framing: exchange.version == "HTTP/1.0" ? .raw : .chunked, clientAddress: exchange.clientAddress)
            let retained = Unmanaged.passRetained(stream).toOpaque()
            mhdResponse = MHD_create_response_from_callback(UInt64.max, Self.streamBlockSize, cmhdStreamRead, retained, cmhdStreamEnded)
            if mhdResponse == nil { Unmanaged<ResponseStream>.fromOpaque(retained).release() }
        } else {
            mhdResponse = response.body.withUnsafeBytes { bytes in
                MHD_create_response_from_buffer(
                    bytes.count, UnsafeMutableRawPointer(mutating: bytes.baseAddress),
                    .RESPMEM_MUST_COPY)
            }
        }
        guard let mhdResponse else { return .NO }
        defer { MHD_destroy_response(mhdResponse) }
        for (name, value) in response.headers {
            // withCString, not the implicit String-to-pointer conversion: that one
            // copies each string into a new array (two allocations per header).
            _ = name.withCString { name in value.withCString { MHD_add_response_header(mhdResponse, name, $0) } }
        }
        return MHD_queue_response(connection, UInt32(response.status), mhdResponse)
    }

    /// The copy buffer libmicrohttpd gives a streamed response. Over HTTP/1.1 the body
    /// is chunked and read straight into the connection's own write buffer, so this one
    /// serves only HTTP/1.0 clients (which then take an event in several reads); it is
    /// allocated zeroed with every stream, idle ones included (bench/NOTES.md
    /// "stream-memory").
    static let streamBlockSize = 64

    /// The request is over: answered, or the client went away.
    func finished(_ exchange: Exchange, completedOK: Bool) {
        // A client that left while its answer was pending: resumed, libmicrohttpd found
        // the socket closed and ended the request without asking for the answer.
        release(exchange)
        for work in exchange.afterResponse { work() }
        exchange.afterResponse = []
        guard logger.logLevel <= .info else { return }
        var metadata: Logger.Metadata = [
            "http.method": "\(exchange.method)",
            "http.target": "\(RedactedTarget.of(exchange.target))",
            "http.duration_us": "\((ContinuousClock.now - exchange.startedAt).microseconds)",
        ]
        if !exchange.clientAddress.isEmpty { metadata["client.address"] = "\(exchange.clientAddress)" }
        // The page's id (backbone-sse.js sends one), so a user's report finds its requests.
        if let clientID = exchange.clientID ?? exchange.header("X-Client-Id") {
            metadata["client.id"] = "\(String(clientID.prefix(128)))"
        }
        for (name, value) in exchange.logFields { metadata[name] = "\(value)" }
        if exchange.status == 0 {
            logger.info("request dropped", metadata: metadata)
        } else {
            metadata["http.status"] = "\(exchange.status)"
            logger.info("request answered", metadata: metadata)
        }
    }
}

extension Exchange {
    func header(_ name: String) -> String? {
        headers.value(of: name)
    }
}

extension Duration {
    /// Whole microseconds, for logs and figures.
    public var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }

    /// Whole nanoseconds, saturating, for deadlines.
    public var nanoseconds: Int {
        let (seconds, attoseconds) = components
        guard seconds < Int64.max / 1_000_000_000 - 1 else { return .max }
        return Int(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
