import CMicroHTTPD
import Glibc
import Synchronization

/// An endless response body (Server-Sent Events) fed from any thread. While it has
/// nothing to send, its connection is suspended: an idle stream costs no thread and no
/// CPU. See `StreamState` for the rules.
public final class ResponseStream: Sendable {
    private struct Guarded {
        var state: StreamState
        var connection: ConnectionHandle?
        /// Run once the buffer holds at most `drainMark` bytes.
        var onDrain: (@Sendable () -> Void)?
        var drainMark = 0
    }

    private let guarded: Mutex<Guarded>
    private let onEnd: Mutex<(@Sendable () -> Void)?>

    /// `initial` bytes go out first (they make libmicrohttpd send the headers).
    public init(capacity: Int, initial: [UInt8]) {
        guarded = Mutex(Guarded(state: StreamState(capacity: capacity, initial: initial)))
        onEnd = Mutex(nil)
    }

    /// Called once, when libmicrohttpd is done with the stream (client gone or ended).
    public func onEnd(_ handler: @escaping @Sendable () -> Void) {
        onEnd.withLock { $0 = handler }
    }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> StreamState.WriteAction {
        perform { $0.write(bytes) }
    }

    /// Sends `bytes` (if they fit) and ends the body.
    @discardableResult
    public func finish(_ bytes: [UInt8] = []) -> StreamState.WriteAction {
        perform { $0.finish(bytes) }
    }

    /// Ends the body now, dropping what is buffered.
    @discardableResult
    public func abort() -> StreamState.WriteAction {
        perform { $0.abort() }
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
    /// watch suspended sockets, so a periodic peek is how a dead client is found.
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

    private func perform(_ change: (inout StreamState) -> StreamState.WriteAction) -> StreamState.WriteAction {
        let (action, connection) = guarded.withLock { g in (change(&g.state), g.connection) }
        if action == .resume, let connection { MHD_resume_connection(connection.raw) }
        return action
    }

    func attach(_ connection: ConnectionHandle) {
        guarded.withLock { $0.connection = connection }
    }

    /// The content reader: copy what is queued, or suspend until there is more.
    func read(into buffer: UnsafeMutablePointer<CChar>, max: Int) -> Int {
        let (result, drained) = guarded.withLock { g -> (Int, (@Sendable () -> Void)?) in
            switch g.state.read(max: max) {
            case .send(let n):
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

    func ended() {
        guarded.withLock {
            $0.state.ended()
            $0.connection = nil
            $0.onDrain = nil
        }
        let handler = onEnd.withLock { h -> (@Sendable () -> Void)? in
            defer { h = nil }
            return h
        }
        handler?()
    }
}
