import CMicroHTTPD
import Foundation
import Logging
import Synchronization

/// Answers one complete request. Call `responder.send` now or later, from any thread.
public typealias HTTPHandler = @Sendable (HTTPRequest, Responder) -> Void

/// An HTTP/1.1 server on libmicrohttpd: epoll, an internal thread pool, keep-alive,
/// bounded request bodies, and connections suspended while their answer is pending.
public final class MicroHTTPDServer: Sendable {
    let configuration: HTTPServerConfiguration
    let handler: HTTPHandler
    /// Builds the answers the server gives on its own (413), in the app's error format;
    /// it gets the request's headers (for CORS).
    let errorResponse:
        @Sendable (_ status: Int, _ code: String, _ message: String, _ headers: [(name: String, value: String)]) -> HTTPResponse
    let logger: Logger
    private let daemon = Mutex<DaemonHandle?>(nil)
    /// Requests whose headers have arrived but whose answer is not yet sent, and
    /// whether the server is stopping (then no request is admitted any more). One lock
    /// for both: a request either counts before `stop` reads the count, or is refused.
    let admission = Mutex(Admission())
    /// Signalled when the last request a stopping server waits for is released.
    let drained = DispatchSemaphore(value: 0)
    /// libmicrohttpd keeps a pointer to this until the daemon stops.
    private let logTarget: LogTargetBox
    /// Lines for limits that bite (refused connections, requests too slow to arrive).
    let limits: LimitLog
    /// Bounds the time a request takes to arrive; nil without a request timeout.
    let watch: ConnectionWatch?
    /// The streams taken over from libmicrohttpd; nil when they stay with it.
    let streamSockets: StreamSocketLoop?
    /// Connections per client address, against the per-address cap; nil without one.
    let perAddress: ConnectionsPerAddress?

    public init(
        configuration: HTTPServerConfiguration,
        logger: Logger,
        errorResponse: @escaping @Sendable (Int, String, String, [(name: String, value: String)]) -> HTTPResponse,
        handler: @escaping HTTPHandler
    ) {
        self.configuration = configuration
        self.logger = logger
        self.errorResponse = errorResponse
        self.handler = handler
        self.logTarget = LogTargetBox()
        self.limits = LimitLog(logger: logger)
        self.watch =
            configuration.requestTimeout > 0
            ? ConnectionWatch(limit: .seconds(configuration.requestTimeout), limits: limits) : nil
        let perAddress =
            configuration.perAddressConnectionLimit > 0
            ? ConnectionsPerAddress(limit: configuration.perAddressConnectionLimit) : nil
        self.perAddress = perAddress
        self.streamSockets = configuration.handOffStreams ? StreamSocketLoop(perAddress: perAddress) : nil
    }

    /// Starts listening. Returns the bound port (the ephemeral one for port 0).
    ///
    /// libmicrohttpd calls back into this object from its own threads until
    /// `MHD_stop_daemon` returns, through a pointer Swift cannot see. So `start` hands C
    /// a retained reference and `stop` releases it only after the daemon has stopped:
    /// a running server stays alive even if its owner lets go of it. (A `deinit` that
    /// stops a still-running daemon cannot work: a callback already running would
    /// retain an object being destroyed.) A server never stopped is leaked with its
    /// daemon, which is what a server that should run until the process ends wants.
    @discardableResult
    public func start() throws -> UInt16 {
        precondition(daemon.withLock { $0 == nil }, "MicroHTTPDServer started twice")
        let retained = Unmanaged.passRetained(self)
        let me = retained.toOpaque()
        let threads =
            configuration.threads > 0
            ? configuration.threads : ProcessInfo.processInfo.activeProcessorCount
        var flags =
            MHD_USE_EPOLL.rawValue | MHD_USE_INTERNAL_POLLING_THREAD.rawValue
            | MHD_ALLOW_SUSPEND_RESUME.rawValue | MHD_USE_ERROR_LOG.rawValue
        // Without it libmicrohttpd shuts a socket down before closing it, which would
        // end a stream handed off on a copy of that socket (`StreamSocketLoop`).
        if streamSockets != nil { flags |= MHD_USE_TURBO.rawValue }
        let started: OpaquePointer? = configuration.host.withCString { host in
            var c = CMHD_Config()
            c.flags = flags
            c.host = host
            c.port = configuration.port
            c.threads = UInt32(max(1, threads))
            c.connection_limit = UInt32(configuration.connectionLimit)
            // The per-address cap is the server's own (`ConnectionsPerAddress`), which
            // also counts the streams handed off.
            c.per_ip_connection_limit = 0
            c.connection_timeout = UInt32(configuration.connectionTimeout)
            c.connection_memory_limit = configuration.connectionMemoryLimit
            c.listen_backlog = 4096
            c.handler = cmhdAccessHandler
            c.handler_cls = me
            c.completed = cmhdRequestCompleted
            c.completed_cls = me
            c.uri_log = cmhdRequestStarted
            c.uri_log_cls = me
            if watch != nil || perAddress != nil {
                c.notify_connection = cmhdConnectionNotified
                c.notify_connection_cls = me
            }
            if perAddress != nil {
                c.accept_policy = cmhdAcceptPolicy
                c.accept_policy_cls = me
            }
            c.log_sink = cmhdLog
            c.log_cls = me
            return CMHD_start(&c, logTarget.raw)
        }
        guard let started else {
            retained.release()
            throw HTTPServerError.cannotStart(
                host: configuration.host, port: configuration.port,
                reason: "libmicrohttpd refused (address in use or invalid)")
        }
        daemon.withLock { $0 = DaemonHandle(raw: started) }
        watch?.start()
        streamSockets?.start()
        return CMHD_bound_port(started)
    }

    /// The port the server listens on, or 0 when it is not running.
    public var port: UInt16 {
        daemon.withLock { $0.map { CMHD_bound_port($0.raw) } ?? 0 }
    }

    /// Stops accepting: new connections are not taken, and new requests on open
    /// keep-alive connections get 503; requests already being handled go on.
    public func quiesce() {
        admission.withLock { $0.quiesce() }
        guard let handle = daemon.withLock({ $0 }) else { return }
        _ = MHD_quiesce_daemon(handle.raw)
    }

    /// Stops accepting, lets pending answers go out (up to `grace`), then stops. Every
    /// stream must have ended first: stopping with suspended connections is not allowed.
    public func stop(grace: Duration = .seconds(4)) {
        let mustWait = admission.withLock { $0.beginStop() }
        guard let handle = daemon.withLock({ $0 }) else { return }
        _ = MHD_quiesce_daemon(handle.raw)
        // The last release signals `drained` (see `Admission`); no request is admitted
        // from now on, so the count can only fall.
        if mustWait, drained.wait(timeout: .now() + .nanoseconds(grace.nanoseconds)) == .timedOut {
            // A release racing with the deadline may still signal: nobody waits again.
            let pending = admission.withLock { state in
                state.stopGaveUp()
                return state.pending
            }
            if pending > 0 {
                logger.error("stopping with unanswered requests", metadata: ["http.pending": "\(pending)"])
            }
        }
        // Taken under the lock: of two concurrent `stop`s, one stops the daemon.
        guard
            let taken = daemon.withLock({ d in
                defer { d = nil }
                return d
            }), taken.raw == handle.raw
        else {
            return
        }
        MHD_stop_daemon(handle.raw)
        watch?.stop()
        streamSockets?.stop()
        // No callback runs any more: give back the reference `start` handed to C.
        Unmanaged.passUnretained(self).release()
    }
}

/// A libmicrohttpd pointer that may cross threads: libmicrohttpd itself is thread-safe
/// for the calls made with it (resume, stop).
struct DaemonHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

struct ConnectionHandle: @unchecked Sendable {
    let raw: OpaquePointer
}

/// Memory for the C logger's target, written once by `CMHD_start` before any thread
/// reads it, freed with the server.
final class LogTargetBox: @unchecked Sendable {
    let raw: UnsafeMutablePointer<CMHD_LogTarget>

    init() {
        raw = .allocate(capacity: 1)
        raw.initialize(to: CMHD_LogTarget())
    }

    deinit { raw.deallocate() }
}
