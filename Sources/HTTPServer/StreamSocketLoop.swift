import Foundation
import CLinuxEvents
import Glibc
import Synchronization

/// The sockets of the streams the server has taken over from libmicrohttpd, and the one
/// thread that watches them.
///
/// libmicrohttpd keeps a connection's memory pool (12 KiB by default, most of it
/// touched) for as long as the connection lives, so an idle stream it holds costs that
/// much. Once a stream's head and first bytes have gone out, `ResponseStream` takes a
/// copy of the socket (`dup`), suspends and resumes the connection (which takes the
/// socket out of libmicrohttpd's epoll set, and has the connection looked at again on
/// the next turn of its loop), and ends libmicrohttpd's response with an error. Then
/// libmicrohttpd frees the response and the pool at once (`MHD_connection_close_`,
/// 0.9.75), under `MHD_USE_TURBO` closes its descriptor without a `shutdown`
/// (`MHD_connection_mark_closed_`), and frees the connection on that next turn. The
/// stream goes on over the copy, written directly by whoever has bytes for it (the
/// hub's fan-out), so an idle stream costs its socket and a few hundred bytes of state.
/// The integration tests hold these behaviours (events after the hand-off; a client's
/// close noticed; no socket left behind).
///
/// This loop waits only for what a writer cannot do at once: a socket whose buffer
/// was full becoming writable again, and a client closing its end. It is
/// edge-triggered, so a stream costs one `epoll_ctl` when adopted and one when closed,
/// none per event.
final class StreamSocketLoop: Sendable {
    private let epoll: Int32
    /// Written to stop the thread.
    private let wake: Int32
    private let streams = Mutex<[UInt64: ResponseStream]>([:])
    private let nextToken = Atomic<UInt64>(1)
    private let done = DispatchSemaphore(value: 0)
    /// A stream's socket still holds one of its client's connections: its place under
    /// the cap, passed on from libmicrohttpd's connection at the hand-off, is given
    /// back when the socket closes.
    private let perAddress: ConnectionsPerAddress?
    private let running = Atomic<Bool>(false)

    /// The token of the wake-up descriptor; streams' tokens start at 1.
    private static let wakeToken: UInt64 = 0
    private static let hangUp = UInt32(EPOLLRDHUP.rawValue | EPOLLHUP.rawValue | EPOLLERR.rawValue)

    init?(perAddress: ConnectionsPerAddress?) {
        self.perAddress = perAddress
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_CLOEXEC | EFD_NONBLOCK))
        guard epoll >= 0, wake >= 0 else {
            if epoll >= 0 { Glibc.close(epoll) }
            if wake >= 0 { Glibc.close(wake) }
            return nil
        }
        var event = epoll_event(events: EPOLLIN.rawValue, data: epoll_data_t(u64: Self.wakeToken))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event) == 0 else {
            Glibc.close(epoll)
            Glibc.close(wake)
            return nil
        }
    }

    deinit {
        Glibc.close(epoll)
        Glibc.close(wake)
    }

    func start() {
        guard !running.exchange(true, ordering: .relaxed) else { return }
        let thread = Thread { [self] in
            run()
            done.signal()
        }
        thread.name = "backbone-sse streams"
        thread.start()
    }

    /// Ends the thread, and aborts the streams still open (the app ends its streams
    /// before the server stops; this is for those that did not drain in time).
    func stop() {
        if running.exchange(false, ordering: .relaxed) {
            var one: UInt64 = 1
            _ = write(wake, &one, 8)
            done.wait()
        }
        let left = streams.withLock { Array($0.values) }
        for stream in left { stream.abort() }
    }

    /// Takes `fd` (the stream's own copy of its socket) into the epoll set; from now on
    /// the loop tells `stream` when it may write again or its client has gone. Returns
    /// nil if the kernel refused (the caller keeps the stream on libmicrohttpd).
    func adopt(
        _ fd: Int32, framing: StreamSocket.Framing, clientAddress: String, for stream: ResponseStream
    )
        -> StreamSocket?
    {
        let socket = StreamSocket(
            fd: fd, framing: framing, clientAddress: clientAddress,
            token: nextToken.add(1, ordering: .relaxed).oldValue)
        streams.withLock { $0[socket.token] = stream }
        var event = epoll_event(
            events: EPOLLOUT.rawValue | EPOLLIN.rawValue | Self.hangUp | EPOLLET.rawValue,
            data: epoll_data_t(u64: socket.token))
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0 else {
            _ = streams.withLock { $0.removeValue(forKey: socket.token) }
            return nil
        }
        return socket
    }

    /// Closes a stream's socket, after taking it out of the epoll set (an event already
    /// read for it finds no stream under its token and is dropped).
    func close(_ socket: StreamSocket) {
        _ = epoll_ctl(epoll, EPOLL_CTL_DEL, socket.fd, nil)
        _ = streams.withLock { $0.removeValue(forKey: socket.token) }
        _ = Glibc.close(socket.fd)
        perAddress?.closed(socket.clientAddress)
    }

    private func run() {
        let capacity = 256
        let events = UnsafeMutablePointer<epoll_event>.allocate(capacity: capacity)
        defer { events.deallocate() }
        while true {
            let n = epoll_wait(epoll, events, Int32(capacity), -1)
            if n < 0 {
                if errno == EINTR { continue }
                return
            }
            for i in 0..<Int(n) {
                let token = events[i].data.u64
                if token == Self.wakeToken { return }
                guard let stream = streams.withLock({ $0[token] }) else { continue }
                let flags = events[i].events
                if flags & Self.hangUp != 0 {
                    stream.socketClosedByClient()
                    continue
                }
                if flags & EPOLLIN.rawValue != 0 { stream.socketReadable() }
                if flags & EPOLLOUT.rawValue != 0 { stream.socketWritable() }
            }
        }
    }
}
