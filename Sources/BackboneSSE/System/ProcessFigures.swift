import Foundation

/// The process figures Prometheus' client libraries export under their standard names
/// (`process_cpu_seconds_total`, …), read from /proc when `/metrics` is asked.
struct ProcessFigures {
    var cpuSeconds: Double
    var residentBytes: Double
    var virtualBytes: Double
    var openDescriptors: Double
    var maxDescriptors: Double
    /// Seconds since 1970.
    var startTime: Double

    /// The figures now; nil where /proc cannot be read (not Linux).
    static func read() -> ProcessFigures? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
            // The command name (field 2) is in parentheses and may hold spaces: count after it.
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is field 3 (state): utime 14, stime 15, starttime 22, vsize 23, rss 24.
        func field(_ n: Int) -> Double { fields.count > n - 3 ? Double(fields[n - 3]) ?? 0 : 0 }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let page = Double(sysconf(Int32(_SC_PAGESIZE)))
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 0
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return ProcessFigures(
            cpuSeconds: (field(14) + field(15)) / ticks, residentBytes: field(24) * page, virtualBytes: field(23),
            openDescriptors: Double(open), maxDescriptors: Double(limit.rlim_cur),
            startTime: bootTime() + field(22) / ticks)
    }

    /// When the machine started (seconds since 1970): /proc/stat's `btime`.
    private static func bootTime() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
            let line = text.split(separator: "\n").first(where: { $0.hasPrefix("btime ") })
        else { return 0 }
        return Double(line.dropFirst(6)) ?? 0
    }
}
