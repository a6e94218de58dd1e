import Glibc
import Logging

/// Each stream is an open socket: raise the soft limit on open files to the hard one.
enum FileLimits {
    static func raise(toAtLeast wanted: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        if limit.rlim_cur < limit.rlim_max {
            limit.rlim_cur = limit.rlim_max
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        if Int(limit.rlim_cur) < wanted {
            logger.warning(
                "the open-file limit is below --max-streams + 1024: streams past it will fail",
                metadata: ["limit": "\(limit.rlim_cur)", "wanted": "\(wanted)"])
        }
    }
}
