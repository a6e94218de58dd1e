import CSystemd
import Glibc

/// Tells systemd how the service is doing, for a unit of `Type=notify`: ready once it
/// listens, reloading around SIGHUP, stopping at SIGTERM (sd_notify(3)). Outside
/// systemd every call does nothing.
public enum SystemdNotify {
    /// The outcome of a notification.
    public enum Outcome: Equatable, Sendable {
        /// Not under systemd (no NOTIFY_SOCKET).
        case notUnderSystemd
        case sent
        /// NOTIFY_SOCKET is set, but libsystemd is missing or the send failed.
        case failed(Int32)
    }

    @discardableResult
    public static func ready(status: String) -> Outcome {
        send("READY=1\nSTATUS=\(status)")
    }

    /// Before the config is read again; `ready` follows when it is in force (or refused).
    @discardableResult
    public static func reloading() -> Outcome {
        // systemd 253+ asks for the monotonic time of the reload's start.
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        let microseconds = UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1000
        return send("RELOADING=1\nMONOTONIC_USEC=\(microseconds)")
    }

    @discardableResult
    public static func stopping() -> Outcome {
        send("STOPPING=1")
    }

    static func send(_ state: String) -> Outcome {
        let result = CSD_notify(state)
        return result == 0 ? .notUnderSystemd : result > 0 ? .sent : .failed(result)
    }
}
