import CMicroHTTPD
import Glibc
import Synchronization

/// An endless response body (Server-Sent Events) fed from any thread.
///
/// libmicrohttpd sends the head and the first bytes. Then, where the server lets it
/// (`StreamSocketLoop`), the stream takes its socket over: writes go straight to the
/// socket, and what does not fit waits here until the loop says the socket drained.
/// Otherwise, while it has nothing to send, its connection is suspended. Either way an
/// idle stream costs no thread and no CPU. See `StreamState` for the rules.
public final class ResponseStream: Sendable {
    private struct Guarded {
        var state: StreamState
        /// The libmicrohttpd connection, until the hand-off.
        var connection: ConnectionHandle?
        /// Where the socket goes once the head is out (nil: it stays with libmicrohttpd).
        var loop: StreamSocketLoop?
        var framing = StreamSocket.Framing.chunked
        var clientAddress = ""
        /// libmicrohttpd has sent bytes of the body, so the head has gone out.
        var bodyStarted = false
        /// The socket, from the hand-off until the stream ends.
        var socket: StreamSocket?
        var handedOff = false
        /// Run once the buffer holds at most `drainMark` bytes.
        var onDrain: (@Sendable () -> Void)?
        var drainMark = 0
        /// The server's work for the end of a handed-off stream (its log line).
        var whenClosed: (@Sendable () -> Void)?
    }

    /// What a change under the lock leaves to do once it is released.
    private struct Aftermath {
        var resume: ConnectionHandle?
        var drained: (@Sendable () -> Void)?
        /// The handed-off socket was closed, so the stream has ended: the server's
        /// work for its end (a no-op when it set none).
        var closed: (@Sendable () -> Void)?
    }

    private let guarded: Mutex<Guarded>
    private let onEnd: Mutex<(@Sendable () -> Void)?>

    /// `initial` bytes go out first (they make libmicrohttpd send the headers).
    public init(capacity: Int, initial: [UInt8]) {
        guarded = Mutex(Guarded(state: StreamState(capacity: capacity, initial: initial)))
        onEnd = Mutex(nil)
    }

    /// Called once, when the stream has ended (client gone or ended).
    public func onEnd(_ handler: @escaping @Sendable () -> Void) {
        onEnd.withLock { $0 = handler }
    }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> StreamState.WriteAction {
        perform { g in
            guard let socket = g.socket else { return g.state.write(bytes) }
            guard g.state.phase == .open else { return .closed }
            guard g.state.pendingCount == 0 else { return g.state.write(socket.framed(bytes)) }
            // Nothing waiting: straight to the socket, and only what it did not take is kept.
            switch socket.sendFramed(bytes) {
            case .sent(let n):
                let framed = socket.framedCount(bytes)
                if n < framed { _ = g.state.write(Array(socket.framed(bytes)[n...])) }
                return .none
            case .wouldBlock:
                return g.state.write(socket.framed(bytes))
            case .failed:
                _ = g.state.abort()  // the client is gone: `perform` closes the socket
                return .closed
            }
        }
    }

    /// Sends `bytes` (if they fit) and ends the body.
    @discardableResult
    public func finish(_ bytes: [UInt8] = []) -> StreamState.WriteAction {
        perform { g in
            guard let socket = g.socket else { return g.state.finish(bytes) }
            return g.state.finish(socket.framed(bytes) + socket.terminator)
        }
    }

    /// Ends the body now, dropping what is buffered.
    @discardableResult
    public func abort() -> StreamState.WriteAction {
        perform { $0.state.abort() }
    }

    public var pendingCount: Int { guarded.withLock { $0.state.pendingCount } }

    /// Calls `handler` (once, on whatever thread sends) when at most `mark` bytes wait,
    /// at once if that is already so: for writers that pace themselves by the reader.
    public func whenDrained(to mark: Int, _ handler: @escaping @Sendable () -> Void) {
        let now = guarded.withLock { g -> Bool in
            if g.state.pendingCount <= mark || g.state.phase != .open { return true }
            g.onDrain = handler
            g.drainMark = mark
            return false
        }
        if now { handler() }
    }

    /// For a suspended stream: has the client closed its end? libmicrohttpd does not
    /// watch suspended sockets, so a periodic peek is how a dead client is found. (A
    /// handed-off stream's loop sees its client leave.)
    public func clientHasGone() -> Bool {
        guard
            let fd = guarded.withLock({ g -> Int32? in
                guard g.state.suspended, let c = g.connection else { return nil }
                return CMHD_connection_fd(c.raw)
            }), fd >= 0
        else { return false }
        var byte: UInt8 = 0
        let n = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if n == 0 { return true }
        if n < 0 { return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR }
        return false
    }

    /// Whether the stream went on on its own socket (then libmicrohttpd's end of the
    /// request is not the stream's end).
    var isHandedOff: Bool { guarded.withLock { $0.handedOff } }

    /// Runs `work` when the handed-off stream ends (at once if it has).
    func whenClosed(_ work: @escaping @Sendable () -> Void) {
        let now = guarded.withLock { g -> Bool in
            guard g.socket != nil else { return true }
            g.whenClosed = work
            return false
        }
        if now { work() }
    }

    /// Applies a change under the lock; on a handed-off stream, then sends what it can
    /// and closes the socket if the stream is done.
    private func perform(_ change: (inout Guarded) -> StreamState.WriteAction) -> StreamState.WriteAction {
        var after = Aftermath()
        let action = guarded.withLock { g in
            let action = change(&g)
            if g.socket != nil {
                after = flush(&g)
            } else if action == .resume {
                after.resume = g.connection
            }
            return action
        }
        settle(after)
        return action
    }

    /// Sends what waits until the socket is full, runs the drain handler when due, and
    /// closes the socket once the stream is done. Under the lock.
    private func flush(_ g: inout Guarded) -> Aftermath {
        guard let socket = g.socket else { return Aftermath() }
        var after = Aftermath()
        sending: while g.state.pendingCount > 0 && g.state.phase != .aborted {
            switch socket.send(g.state.unsent) {
            case .sent(let n): g.state.sent(n)
            case .wouldBlock: break sending
            case .failed: _ = g.state.abort()
            }
        }
        if g.onDrain != nil, g.state.pendingCount <= g.drainMark {
            after.drained = g.onDrain
            g.onDrain = nil
        }
        if g.state.isDone {
            g.loop?.close(socket)
            g.socket = nil
            g.state.ended()
            g.onDrain = nil
            after.closed = g.whenClosed ?? {}
            g.whenClosed = nil
        }
        return after
    }

    private func settle(_ after: Aftermath) {
        if let connection = after.resume { MHD_resume_connection(connection.raw) }
        after.drained?()
        if let closed = after.closed {
            runOnEnd()
            closed()
        }
    }

    private func runOnEnd() {
        let handler = onEnd.withLock { h -> (@Sendable () -> Void)? in
            defer { h = nil }
            return h
        }
        handler?()
    }

    // MARK: From the loop

    /// The socket drained: send what waits.
    func socketWritable() {
        settle(guarded.withLock { flush(&$0) })
    }

    /// The client closed its end, or the connection broke.
    func socketClosedByClient() {
        settle(
            guarded.withLock { g in
                _ = g.state.abort()
                return flush(&g)
            })
    }

    /// The client sent bytes: a stream's client has nothing to say, so they are read
    /// and dropped (at most a few reads' worth per wake-up); end of file means it left.
    func socketReadable() {
        let gone = guarded.withLock { g -> Bool in
            guard let socket = g.socket else { return false }
            var scratch = [UInt8](repeating: 0, count: 4096)
            for _ in 0..<16 {
                let n = recv(socket.fd, &scratch, scratch.count, Int32(MSG_DONTWAIT))
                if n > 0 { continue }
                return n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            }
            return false
        }
        if gone { socketClosedByClient() }
    }

    // MARK: From libmicrohttpd

    func attach(
        _ connection: ConnectionHandle, handOffTo loop: StreamSocketLoop?, framing: StreamSocket.Framing,
        clientAddress: String
    ) {
        guarded.withLock {
            $0.connection = connection
            $0.loop = loop
            $0.framing = framing
            $0.clientAddress = clientAddress
        }
    }

    /// The content reader: copy what is queued, or suspend until there is more.
    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let (result, drained) = guarded.withLock { g -> (Int, (@Sendable () -> Void)?) in
            switch g.state.read(max: max) {
            case .send(let n):
                g.bodyStarted = true
                g.state.lastSent(n).withUnsafeBufferPointer { bytes in
                    UnsafeMutableRawPointer(buffer).copyMemory(from: bytes.baseAddress!, byteCount: n)
                }
                var drained: (@Sendable () -> Void)?
                if g.onDrain != nil, g.state.pendingCount <= g.drainMark {
                    drained = g.onDrain
                    g.onDrain = nil
                }
                return (n, drained)
            case .suspend:
                if handOff(&g) { return (-2, nil) }  // MHD_CONTENT_READER_END_WITH_ERROR
                // Under the lock: a writer that sees `suspended` resumes only after this.
                if let c = g.connection { MHD_suspend_connection(c.raw) }
                return (0, nil)
            case .end:
                return (-1, nil)  // MHD_CONTENT_READER_END_OF_STREAM
            case .fail:
                return (-2, nil)  // MHD_CONTENT_READER_END_WITH_ERROR
            }
        }
        drained?()
        return result
    }

    /// Takes the socket over, if the server lets it and the head has gone out (the
    /// reader is called again only once what it gave before has been sent). The
    /// caller then ends libmicrohttpd's response with an error, which frees the
    /// connection without touching the socket (see `StreamSocketLoop`).
    private func handOff(_ g: inout Guarded) -> Bool {
        guard let loop = g.loop, g.bodyStarted, let connection = g.connection else { return false }
        let fd = CMHD_connection_fd(connection.raw)
        guard fd >= 0 else { return false }
        let copy = fcntl(fd, F_DUPFD_CLOEXEC, 0)
        guard copy >= 0 else { return false }
        guard let socket = loop.adopt(copy, framing: g.framing, clientAddress: g.clientAddress, for: self) else {
            close(copy)
            return false
        }
        // The connection's place under the per-address cap passes to the socket, so it
        // counts once throughout: libmicrohttpd closes the connection later, on its
        // loop's next turn, and many streams opened at once must not count twice
        // meanwhile. (With a cap, every connection has a clock; this runs on the
        // connection's own thread, before the CLOSED notification can.)
        connectionClock(connection.raw)?.placeHeldByStream.store(true, ordering: .relaxed)
        g.socket = socket
        g.handedOff = true
        g.connection = nil
        g.state.handedOff()
        // libmicrohttpd frees a connection it closed only the next time it looks at
        // it, and an idle stream gives it no reason to: suspended and resumed, the
        // connection is looked at on the next turn of its loop (and leaves the loop's
        // epoll set now, before the socket is ours).
        MHD_suspend_connection(connection.raw)
        MHD_resume_connection(connection.raw)
        return true
    }

    /// libmicrohttpd let go of the response: the stream has ended, unless it went on
    /// on its own socket.
    func ended() {
        let handedOff = guarded.withLock { g -> Bool in
            if g.handedOff { return true }
            g.state.ended()
            g.connection = nil
            g.onDrain = nil
            return false
        }
        if !handedOff { runOnEnd() }
    }
}
