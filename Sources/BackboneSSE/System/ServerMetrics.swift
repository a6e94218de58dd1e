import DocumentStore
import HTTPServer
import Prometheus
import Synchronization

/// The figures `/metrics` shows, in Prometheus text format.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2.5),
        .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
        .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
    ]
    private var requestsName: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "backbone_sse", metricName: "http_requests", unitName: "total",
            helpText: "HTTP requests answered, by route, method and status")
    }
    private var latencyName: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "backbone_sse", metricName: "http_request_duration", unitName: "seconds",
            helpText: "Time from the request's headers to its answer, by route")
    }
    private var writtenName: MetricNameDescriptor {
        MetricNameDescriptor(
            namespace: "backbone_sse", metricName: "documents_written", unitName: "total",
            helpText: "Documents created, replaced, patched or deleted, by collection and operation")
    }

    /// The stream figures, made once: the registry takes a lock and builds labels per call.
    private let streamFigures: (sent: Counter, replayed: Counter, overflowed: Counter, open: Gauge)
    private let slowLists: Counter
    private let logPruned: Counter

    /// The figures of `ProcessFigures`, set when read; the CPU time is a counter, moved
    /// on by what was spent since the last read.
    private let processGauges: [(name: String, gauge: Gauge)]
    private let processCPU: Counter
    private let processCPUCounted = Mutex<Double>(0)

    public init() {
        let build = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "backbone_sse", metricName: "build_info", unitName: "",
                helpText: "Always 1: the release and the libmicrohttpd it runs with, as labels"),
            labels: [("version", Release.version), ("libmicrohttpd", MicroHTTPDServer.libraryVersion)])
        build.set(1.0)
        let processHelp: [(String, String)] = [
            ("process_resident_memory_bytes", "Resident memory size, in bytes"),
            ("process_virtual_memory_bytes", "Virtual memory size, in bytes"),
            ("process_open_fds", "Open file descriptors"),
            ("process_max_fds", "The most file descriptors the process may open"),
            ("process_start_time_seconds", "When the process started, in seconds since 1970"),
        ]
        let registry = self.registry
        processCPU = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                metricName: "process_cpu_seconds", unitName: "total", helpText: "User and system CPU time spent, in seconds"))
        processGauges = processHelp.map { name, help in
            (name, registry.makeGauge(descriptor: MetricNameDescriptor(metricName: name, unitName: "", helpText: help)))
        }
        slowLists = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "backbone_sse", metricName: "slow_lists", unitName: "total",
                helpText: "Lists stopped past --list-budget on a server thread and run on the thread for slow lists"))
        logPruned = registry.makeCounter(
            descriptor: MetricNameDescriptor(
                namespace: "backbone_sse", metricName: "stream_log_pruned", unitName: "total",
                helpText: "Change-log entries pruned past --retain-count or --retain-seconds"))
        streamFigures = (
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "backbone_sse", metricName: "stream_events_sent", unitName: "total",
                    helpText: "Live events written to streams")),
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "backbone_sse", metricName: "stream_events_replayed", unitName: "total",
                    helpText: "Events replayed from the change log to resuming streams")),
            registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "backbone_sse", metricName: "streams_overflowed", unitName: "total",
                    helpText: "Streams reset and closed because their reader fell past the buffer")),
            registry.makeGauge(
                descriptor: MetricNameDescriptor(
                    namespace: "backbone_sse", metricName: "streams_open", unitName: "",
                    helpText: "Open event streams"))
        )
    }

    private struct RequestKey: Hashable {
        let route: String
        let method: String
        let status: Int

        /// Hashed on what tells the few keys apart cheaply (equality still compares
        /// all three): hashing the strings' bytes cost more than the rest of the
        /// request's metrics.
        func hash(into hasher: inout Hasher) {
            hasher.combine(status)
            hasher.combine(route.utf8.count)
            hasher.combine(route.utf8.last)
            hasher.combine(method.utf8.first)
        }
    }

    /// The counter and histogram of each (route, method, status), made once: asking the
    /// registry on every request built label arrays and took its lock.
    private let requestMetrics = Mutex<[RequestKey: (Counter, DurationHistogram)]>([:])

    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let metrics = requestMetrics.withLock { cache in
            if let found = cache[key] { return found }
            let made = (
                registry.makeCounter(descriptor: requestsName, labels: [("route", route), ("method", method), ("status", String(status))]),
                registry.makeDurationHistogram(descriptor: latencyName, labels: [("route", route)], buckets: Self.latencyBuckets)
            )
            cache[key] = made
            return made
        }
        metrics.0.increment()
        metrics.1.record(duration)
    }

    private struct WrittenKey: Hashable {
        let collection: String
        let operation: String
    }

    private let writtenCounters = Mutex<[WrittenKey: Counter]>([:])

    func documentWritten(collection: String, operation: String) {
        let key = WrittenKey(collection: collection, operation: operation)
        let counter = writtenCounters.withLock { cache in
            if let found = cache[key] { return found }
            let made = registry.makeCounter(descriptor: writtenName, labels: [("collection", collection), ("operation", operation)])
            cache[key] = made
            return made
        }
        counter.increment()
    }

    /// The store's counters, each as `backbone_sse_store_<name>_total` in the registry:
    /// the store keeps the figures, and each scrape adds what they grew by since the last.
    func storeStatistics(_ statistics: [StoreStatistic]) { report(statistics, as: "store_") }

    /// The broker's counters, as `backbone_sse_pubsub_<name>_total`, and its lags.
    func brokerStatistics(_ broker: any BrokerStatus) {
        report(broker.statistics(), as: "pubsub_")
        for lag in broker.takeLags() { brokerLag.record(.nanoseconds(Int64(lag * 1e9))) }
    }

    private let reportedCounters = Mutex<[String: (counter: Counter, reported: Int)]>([:])

    private func report(_ statistics: [StoreStatistic], as prefix: String) {
        reportedCounters.withLock { counters in
            for statistic in statistics {
                let name = prefix + statistic.name
                let entry =
                    counters[name] ?? (
                        registry.makeCounter(
                            descriptor: MetricNameDescriptor(
                                namespace: "backbone_sse", metricName: name, unitName: "total", helpText: statistic.help)),
                        0
                    )
                if statistic.value > entry.reported { entry.counter.increment(by: Int64(statistic.value - entry.reported)) }
                counters[name] = (entry.counter, max(entry.reported, statistic.value))
            }
        }
    }

    private var brokerLag: DurationHistogram {
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(
                namespace: "backbone_sse", metricName: "pubsub_delivery_lag", unitName: "seconds",
                helpText: "Time from a commit's announcement on another server to its hand-over to this server's streams"),
            buckets: Self.latencyBuckets)
    }

    func eventsSent(_ n: Int) { streamFigures.sent.increment(by: Int64(n)) }
    func eventsReplayed(_ n: Int) { streamFigures.replayed.increment(by: Int64(n)) }
    func streamOverflowed() { streamFigures.overflowed.increment() }
    func listMovedToSlowLane() { slowLists.increment() }
    func logPruned(_ n: Int) { logPruned.increment(by: Int64(n)) }
    func setOpenStreams(_ n: Int) { streamFigures.open.set(Double(n)) }
    /// Reads /proc into the process gauges.
    func processFigures() {
        guard let figures = ProcessFigures.read() else { return }
        let spent = processCPUCounted.withLock { counted in
            defer { counted = max(counted, figures.cpuSeconds) }
            return max(0, figures.cpuSeconds - counted)
        }
        processCPU.increment(by: spent)
        let values: [String: Double] = [
            "process_resident_memory_bytes": figures.residentBytes,
            "process_virtual_memory_bytes": figures.virtualBytes, "process_open_fds": figures.openDescriptors,
            "process_max_fds": figures.maxDescriptors, "process_start_time_seconds": figures.startTime,
        ]
        for (name, gauge) in processGauges { gauge.set(values[name] ?? 0) }
    }

    func render() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
