import Dispatch
import Foundation
import Synchronization

/// What a publisher or subscriber does on a connection its worker made.
protocol RedisSession: AnyObject, Sendable {
    /// After AUTH and SELECT: proves the server answers (PING) or subscribes. Throwing
    /// makes the attempt a failure.
    func begin(_ connection: RedisConnection) throws(RedisError)
    /// Uses the connection until it fails (throws) or the worker stops (returns).
    func serve(_ connection: RedisConnection) throws(RedisError)
    /// The link came up (after `begin`) or went down (`error` says why); called on the
    /// worker's thread, once per change.
    func availabilityChanged(_ available: Bool, error: RedisError?)
}

/// One connection's life on a thread of its own: connect, AUTH, SELECT, `begin`, `serve`
/// until it fails, back off, again, until `stop`. Never Swift's cooperative pool: every
/// call in here blocks (each bounded by `RedisOptions`).
final class RedisWorker: Sendable {
    let url: RedisURL
    let options: RedisOptions
    /// Wakes the thread from a backoff sleep or an idle wait (`stop`, a publish).
    let wake = DispatchSemaphore(value: 0)
    let reconnects = Atomic<Int>(0)
    private let finished = DispatchSemaphore(value: 0)
    private let state = Mutex(State())

    private struct State {
        var started = false
        var stopped = false
        /// The live connection's socket, for `stop` to shut down; cleared before the
        /// connection is freed (under this lock), so `stop` never hits a reused number.
        var fd: Int32?
        var thread: ObjectIdentifier?
        var available: Bool?
        var lastError: RedisError?
    }

    init(url: RedisURL, options: RedisOptions) {
        self.url = url
        self.options = options
    }

    var isStopped: Bool { state.withLock { $0.stopped } }
    var isAvailable: Bool { state.withLock { $0.available == true } }
    var lastError: RedisError? { state.withLock { $0.lastError } }

    func start(_ session: some RedisSession, name: String) {
        let first = state.withLock { state in
            defer { state.started = true }
            return !state.started && !state.stopped
        }
        guard first else { return }
        let thread = Thread { [self] in
            RedisConnection.blockSIGPIPEOnThisThread()
            state.withLock { $0.thread = ObjectIdentifier(Thread.current) }
            run(session)
            finished.signal()
        }
        thread.name = name
        thread.start()
    }

    /// Ends the thread and waits for it (not when called from the thread itself, e.g. by
    /// a message handler). Safe to call again, or before `start`.
    func stop() {
        let (wait, onWorker) = state.withLock { state in
            defer { state.stopped = true }
            if let fd = state.fd { RedisConnection.shutdown(fd: fd) }
            return (state.started && !state.stopped, state.thread == ObjectIdentifier(Thread.current))
        }
        wake.signal()
        if wait && !onWorker { finished.wait() }
    }

    /// Sleeps until `deadline`, or less when woken; false once stopped.
    func sleep(until deadline: ContinuousClock.Instant) -> Bool {
        let left = ContinuousClock.now.duration(to: deadline)
        if left > .zero { _ = wake.wait(timeout: .now() + .milliseconds(Int(max(1, left.milliseconds)))) }
        return !isStopped
    }

    private func run(_ session: some RedisSession) {
        var backoff = Backoff(options)
        var connectedBefore = false
        while !isStopped {
            do throws(RedisError) {
                let connection = try RedisConnection(
                    host: url.host, port: url.port, connectTimeout: options.connectTimeout, commandTimeout: options.commandTimeout)
                defer {
                    state.withLock { $0.fd = nil }
                    connection.close()
                }
                guard adopt(connection.fd) else { break }
                try handshake(connection)
                try session.begin(connection)
                backoff.reset()
                if connectedBefore { reconnects.add(1, ordering: .relaxed) }
                connectedBefore = true
                report(available: true, error: nil, to: session)
                try session.serve(connection)
            } catch {
                if isStopped { break }
                report(available: false, error: error, to: session)
            }
            let deadline = ContinuousClock.now + backoff.next()
            while ContinuousClock.now < deadline, sleep(until: deadline) {}
        }
    }

    /// Registers the socket for `stop`; false when stopped meanwhile.
    private func adopt(_ fd: Int32) -> Bool {
        state.withLock { state in
            guard !state.stopped else { return false }
            state.fd = fd
            return true
        }
    }

    private func handshake(_ connection: RedisConnection) throws(RedisError) {
        if let password = url.password {
            _ = try connection.command(["AUTH"] + (url.user.map { [$0] } ?? []) + [password]).orThrow()
        }
        if url.database != 0 {
            _ = try connection.command(["SELECT", String(url.database)]).orThrow()
        }
    }

    private func report(available: Bool, error: RedisError?, to session: some RedisSession) {
        let changed = state.withLock { state in
            state.lastError = error ?? state.lastError
            defer { state.available = available }
            return state.available != available
        }
        if changed { session.availabilityChanged(available, error: error) }
    }
}
