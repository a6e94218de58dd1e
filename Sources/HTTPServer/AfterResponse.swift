import Glibc

/// Work that should wait until the answer being produced on this thread is on its way:
/// a write's fan-out to every open stream would otherwise compete with the write's own
/// response for the cores. Outside a request handler the work runs at once.
/// "On its way" is when libmicrohttpd has handed the whole answer to the kernel: for an
/// answer larger than the socket buffers, when the client has read enough of it; for a
/// client that stops reading, at the connection timeout. Work that cannot wait that long
/// needs its own bound (`StreamHousekeeping.publishStalledCommits`).
public enum AfterResponse {
    public static func run(_ work: @escaping @Sendable () -> Void) {
        guard let slot = pthread_getspecific(key) else { return work() }
        Unmanaged<Hooks>.fromOpaque(slot).takeUnretainedValue().work.append(work)
    }

    /// The work deferred by one handler call; only its own thread touches it.
    final class Hooks {
        var work: [@Sendable () -> Void] = []
    }

    /// Runs `handler` with deferred work collected instead of run; returns that work.
    static func collecting(_ handler: () -> Void) -> [@Sendable () -> Void] {
        let hooks = Hooks()
        pthread_setspecific(key, Unmanaged.passUnretained(hooks).toOpaque())
        handler()
        pthread_setspecific(key, nil)
        return hooks.work
    }

    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}
