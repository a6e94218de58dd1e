import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// One TCP connection as the request-timeout sweep sees it: its socket, and since when
/// it has been waiting for a request to arrive whole (or `ConnectionClock.idle`). It
/// also keeps the peer's address, formatted once for every request of the connection.
final class ConnectionClock: Sendable {
    /// Not receiving a request: its answer is being made, sent or streamed.
    static let idle: UInt64 = 0

    let fd: Int32
    let clientAddress: String
    /// Monotonic nanoseconds when the current request began to be awaited: the
    /// connection opened, or the previous request on it completed.
    let receivingSince: Atomic<UInt64>
    /// Whether the sweep has looked for a peer that closed before its first request
    /// arrived (`ConnectionWatch.peerClosed`): once a connection is enough.
    let checkedForPeerClose = Atomic<Bool>(false)
    /// Whether the connection's place under the per-address cap has passed to its
    /// stream's own socket (`StreamSocketLoop`), which gives it back when it closes:
    /// libmicrohttpd's closing the connection then gives back nothing.
    let placeHeldByStream = Atomic<Bool>(false)

    init(fd: Int32, clientAddress: String) {
        self.fd = fd
        self.clientAddress = clientAddress
        self.receivingSince = Atomic(DispatchTime.now().uptimeNanoseconds)
    }

    /// The request is fully received (or answered early): the clock stops.
    func requestReceived() {
        receivingSince.store(Self.idle, ordering: .relaxed)
    }

    /// The request is over and the connection kept: the next one is awaited from now.
    func awaitNextRequest() {
        receivingSince.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }
}

/// Bounds the time a request may take to arrive, whatever the pace of its bytes.
///
/// libmicrohttpd 0.9.75's `MHD_OPTION_CONNECTION_TIMEOUT` is an idle timeout that
/// every byte received resets, and it offers no deadline per request: a client
/// sending its headers at one byte per second holds a connection for as long as it
/// likes. So each connection gets a `ConnectionClock` (through the connection-notify
/// callback), the access handler stops it once the request is whole, and a sweep
/// thread shuts down the socket of every connection whose clock has run past the
/// limit. `shutdown` (not `close`) leaves the descriptor to libmicrohttpd, whose epoll
/// loop then reads end-of-file and closes the connection on its own thread. The sweep
/// shuts a socket down only under the lock that the connection's CLOSED notification
/// takes to unregister it, and libmicrohttpd closes the descriptor only after that
/// notification: so a descriptor number reused by a newer connection is never hit.
///
/// Streams are exempt: once a request is received its clock stays stopped until the
/// request completes, and a stream's request completes when the stream ends.
///
/// The sweep also frees connections whose client left before libmicrohttpd read them
/// whole. A connection accepted with its bytes and the client's FIN already queued
/// (accepted late, from a backlog filled while at the connection limit) gets one
/// edge-triggered epoll event; libmicrohttpd reads the bytes, never sees the end of
/// file, and keeps the socket in CLOSE-WAIT until its idle timeout. So once a
/// connection has waited a second for its first request, the sweep asks the kernel
/// whether the peer has shut down its side, and if so shuts the socket down too
/// (see bench/NOTES.md#slow-clients).
final class ConnectionWatch: Sendable {
    let limit: Duration
    private let clocks = Mutex<[ObjectIdentifier: ConnectionClock]>([:])
    private let stopped = Atomic<Bool>(false)
    let limits: LimitLog

    init(limit: Duration, limits: LimitLog) {
        self.limit = limit
        self.limits = limits
    }

    func opened(_ clock: ConnectionClock) {
        clocks.withLock { $0[ObjectIdentifier(clock)] = clock }
    }

    func closed(_ clock: ConnectionClock) {
        _ = clocks.withLock { $0.removeValue(forKey: ObjectIdentifier(clock)) }
    }

    /// Starts the sweep thread; it ends soon after `stop`.
    func start() {
        let thread = Thread { [self] in
            let period = min(1.0, max(0.05, Double(limit.nanoseconds) / 4e9))
            while !stopped.load(ordering: .relaxed) {
                Thread.sleep(forTimeInterval: period)
                sweep()
                limits.flush()
            }
        }
        thread.name = "backbone-sse request timeout"
        thread.start()
    }

    func stop() {
        stopped.store(true, ordering: .relaxed)
    }

    /// Shuts down every connection whose request has taken longer than `limit` to arrive,
    /// and every one still awaiting its first request after a second whose client has
    /// gone.
    func sweep() {
        let now = DispatchTime.now().uptimeNanoseconds
        let limitNanoseconds = UInt64(limit.nanoseconds)
        let cut = clocks.withLock { clocks in
            var cut = 0
            for clock in clocks.values {
                let since = clock.receivingSince.load(ordering: .relaxed)
                guard since != ConnectionClock.idle, now > since else { continue }
                if now - since > 1_000_000_000, !clock.checkedForPeerClose.exchange(true, ordering: .relaxed),
                    Self.peerClosed(clock.fd)
                {
                    clock.requestReceived()
                    _ = shutdown(clock.fd, Int32(SHUT_RDWR))
                    continue
                }
                guard now - since > limitNanoseconds else { continue }
                // Counted once: the connection closes, or its clock is restarted by a
                // request completing meanwhile.
                clock.requestReceived()
                _ = shutdown(clock.fd, Int32(SHUT_RDWR))
                cut += 1
            }
            return cut
        }
        if cut > 0 { limits.note(.requestTimeout, count: cut) }
    }

    /// Whether the client has shut down its side of `fd` (FIN received, or the
    /// connection reset), whatever bytes are still unread: `POLLRDHUP`, which Glibc's
    /// Swift module does not name (it is behind `_GNU_SOURCE`).
    static func peerClosed(_ fd: Int32) -> Bool {
        let readHangUp: Int16 = 0x2000
        var entry = pollfd(fd: fd, events: readHangUp, revents: 0)
        guard poll(&entry, 1, 0) == 1 else { return false }
        return entry.revents & (readHangUp | Int16(POLLHUP) | Int16(POLLERR)) != 0
    }
}
