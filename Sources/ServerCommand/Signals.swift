import Foundation

/// SIGTERM and SIGINT (stop) and SIGHUP (read the config again), taken synchronously
/// with sigwait: no handler runs on a signal stack, and no thread the server starts
/// later ever receives them.
enum Signals {
    static func block() {
        var set = signals()
        pthread_sigmask(SIG_BLOCK, &set, nil)
        signal(SIGPIPE, SIG_IGN)
    }

    /// Blocks until SIGTERM, SIGINT or SIGHUP arrives; returns its number.
    static func wait() -> Int32 {
        var set = signals()
        var received: Int32 = 0
        sigwait(&set, &received)
        return received
    }

    private static func signals() -> sigset_t {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGHUP)
        return set
    }
}
