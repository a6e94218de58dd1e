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
        guard let slot = pthread_getspecific(hooksKey) else { return work() }
        let hooks = Unmanaged<Hooks>.fromOpaque(slot).takeUnretainedValue()
        guard hooks.collecting else { return work() }
        hooks.work.append(work)
    }

    /// The work deferred by the handler call running on a thread; only that thread
    /// touches it.
    final class Hooks {
        var collecting = false
        var work: [@Sendable () -> Void] = []
    }

    /// Runs `handler` with deferred work collected instead of run; returns that work.
    /// Each thread keeps one `Hooks` for all its requests (not one allocation each);
    /// `collecting` is not reentered on a thread (a handler does not run another).
    static func collecting(_ handler: () -> Void) -> [@Sendable () -> Void] {
        let hooks = threadHooks()
        hooks.collecting = true
        handler()
        hooks.collecting = false
        defer { hooks.work = [] }
        return hooks.work
    }

    private static func threadHooks() -> Hooks {
        if let slot = pthread_getspecific(hooksKey) { return Unmanaged<Hooks>.fromOpaque(slot).takeUnretainedValue() }
        let hooks = Hooks()
        // Released with the thread by the key's destructor.
        pthread_setspecific(hooksKey, Unmanaged.passRetained(hooks).toOpaque())
        return hooks
    }

    private static let hooksKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { slot in
            guard let slot else { return }
            Unmanaged<Hooks>.fromOpaque(slot).release()
        }
        return key
    }()
}
