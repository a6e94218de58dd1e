import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// One TCP connection as the request-timeout sweep sees it: its socket, and since when
/// it has been waiting for a request to arrive whole (or `ConnectionClock.idle`).
final class ConnectionClock: Sendable {
    /// Not receiving a request: its answer is being made, sent or streamed.
    static let idle: UInt64 = 0

    let fd: Int32
    /// Monotonic nanoseconds when the current request began to be awaited: the
    /// connection opened, or the previous request on it completed.
    let receivingSince: Atomic<UInt64>

    init(fd: Int32) {
        self.fd = fd
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

    /// Shuts down every connection whose request has taken longer than `limit` to arrive.
    func sweep() {
        let now = DispatchTime.now().uptimeNanoseconds
        let limitNanoseconds = UInt64(limit.nanoseconds)
        let cut = clocks.withLock { clocks in
            var cut = 0
            for clock in clocks.values {
                let since = clock.receivingSince.load(ordering: .relaxed)
                guard since != ConnectionClock.idle, now > since, now - since > limitNanoseconds else { continue }
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
}
