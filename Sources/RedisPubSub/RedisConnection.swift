import CHiredis
import Glibc

/// One blocking hiredis connection: the only file that touches hiredis or a raw pointer.
/// A `redisContext` is not thread-safe, so a connection belongs to the one thread that
/// made it; only `fd` (for `shutdown(fd:)`, which ends a blocked read with EOF) crosses
/// threads. Every blocking call is bounded: connect by the connect timeout, reads and
/// writes by SO_RCVTIMEO/SO_SNDTIMEO (`redisSetTimeout`), `waitReadable` by its argument.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>
    let fd: Int32
    private let commandTimeout: Duration
    private var closed = false

    init(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) {
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(connectTimeout)) else {
            throw .connect("out of memory")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw .connect(reason)
        }
        // redisConnectWithTimeout bounds the connect only; without this a read from a
        // Redis paused with SIGSTOP (the kernel accepted the connection) waits forever.
        guard redisSetTimeout(context, timeval(commandTimeout)) == REDIS_OK else {
            let reason = Self.errorText(context)
            redisFree(context)
            throw .connect(reason)
        }
        self.context = context
        self.commandTimeout = commandTimeout
        fd = context.pointee.fd
    }

    deinit { close() }

    /// Frees the context and closes the socket. Whoever may `shutdown(fd:)` this fd from
    /// another thread must have forgotten it first: the number is reused at once.
    func close() {
        guard !closed else { return }
        closed = true
        redisFree(context)
    }

    /// Sends a command and waits for its reply.
    func command(_ arguments: [String]) throws(RedisError) -> RedisReply {
        try append(arguments)
        try flush()
        return try reply()
    }

    /// Queues a command in the output buffer (pipelining: `flush`, then one `reply` each).
    func append(_ arguments: [String]) throws(RedisError) {
        let status = Self.withArgv(arguments) { argc, argv, lengths in
            redisAppendCommandArgv(context, argc, argv, lengths)
        }
        if status != REDIS_OK { throw failure() }
    }

    /// Writes the output buffer out.
    func flush() throws(RedisError) {
        var done: Int32 = 0
        repeat {
            if redisBufferWrite(context, &done) != REDIS_OK { throw failure() }
        } while done == 0
    }

    /// The next reply, reading the socket as needed.
    func reply() throws(RedisError) -> RedisReply {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw failure() }
        return Self.take(raw)
    }

    /// A reply already read into hiredis's buffer, or nil; never touches the socket.
    func bufferedReply() throws(RedisError) -> RedisReply? {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReplyFromReader(context, &raw) == REDIS_OK else { throw failure() }
        return raw.map(Self.take)
    }

    /// Reads what the socket holds into the buffer: call after `waitReadable` said so
    /// (a blocking read otherwise). EOF is an error.
    func readAvailable() throws(RedisError) {
        if redisBufferRead(context) != REDIS_OK { throw failure() }
    }

    /// Waits until the socket is readable (data, EOF or an error to collect) or the
    /// timeout passes; false on timeout or a signal.
    func waitReadable(timeout: Duration) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, Int32(clamping: max(0, timeout.milliseconds))) > 0
    }

    /// hiredis writes with write(2): a write to a Redis that died raises SIGPIPE, which
    /// kills a process that does not ignore it. Blocked on the calling thread, the signal
    /// stays pending there and the write fails with EPIPE instead; the server ignoring
    /// SIGPIPE process-wide is then not required of every user of this module.
    static func blockSIGPIPEOnThisThread() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    /// Ends whatever the owning thread is blocked in (read, write, poll) with an error.
    static func shutdown(fd: Int32) {
        _ = Glibc.shutdown(fd, Int32(SHUT_RDWR))
    }

    /// The context's error as a RedisError. hiredis reports a read that SO_RCVTIMEO ended
    /// as an I/O error with errno EAGAIN ("Resource temporarily unavailable").
    private func failure() -> RedisError {
        let timedOut = errno == EAGAIN || errno == EWOULDBLOCK
        let reason = Self.errorText(context)
        // errno may have moved since hiredis failed; its errstr holds strerror(EAGAIN) then.
        let timedOutText = reason == String(cString: strerror(EAGAIN))
        switch context.pointee.err {
        case REDIS_ERR_IO where timedOut || timedOutText: return .timeout("none within \(commandTimeout) (\(reason))")
        case REDIS_ERR_PROTOCOL: return .unexpectedReply(reason)
        default: return .io(reason)
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        let text = withUnsafeBytes(of: context.pointee.errstr) { bytes in
            String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
        }
        return text.isEmpty ? "error \(context.pointee.err)" : text
    }

    /// Copies a reply out and frees it.
    private static func take(_ raw: UnsafeMutableRawPointer) -> RedisReply {
        defer { freeReplyObject(raw) }
        return convert(raw.assumingMemoryBound(to: redisReply.self))
    }

    private static func convert(_ reply: UnsafePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: r.len), as: UTF8.self)
        }
        switch r.type {
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_STRING: return .string(text())
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            guard let elements = r.element else { return .array([]) }
            return .array((0..<r.elements).compactMap { elements[$0].map { convert(UnsafePointer($0)) } })
        default: return .null
        }
    }

    /// argv/argvlen over one contiguous copy of the arguments (binary-safe lengths).
    private static func withArgv<R>(
        _ arguments: [String], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R {
        var bytes: [CChar] = arguments.flatMap { Array($0.utf8) }.map { CChar(bitPattern: $0) }
        bytes.append(0)  // never empty, so baseAddress is never nil
        let lengths = arguments.map { $0.utf8.count }
        return bytes.withUnsafeBufferPointer { buffer in
            var offset = 0
            var pointers: [UnsafePointer<CChar>?] = lengths.map { length in
                defer { offset += length }
                return buffer.baseAddress! + offset
            }
            return pointers.withUnsafeMutableBufferPointer { argv in
                lengths.withUnsafeBufferPointer { body(Int32(arguments.count), argv.baseAddress!, $0.baseAddress!) }
            }
        }
    }
}

extension timeval {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
