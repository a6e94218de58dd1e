/// What a progress indicator says and when, without a clock or a terminal of its own
/// (`ProgressReporter` gives it both). On a terminal one line redrawn in place at most
/// ten times a second; elsewhere (a log, a pipe) a plain line every `interval` seconds.
/// Both end with a summary line.
public struct ProgressMeter: Sendable {
    public let label: String
    public let interactive: Bool
    public let interval: Double
    private var lastEmitted: Double = 0

    public init(label: String, interactive: Bool, interval: Double = 5) {
        self.label = label
        self.interactive = interactive
        self.interval = interval
    }

    /// The text to write now, if any: `count` documents after `elapsed` seconds;
    /// `fraction` (0…1) of the work done when it is known, for the ETA.
    public mutating func update(count: Int, elapsed: Double, fraction: Double?) -> String? {
        guard elapsed - lastEmitted >= (interactive ? 0.1 : interval) else { return nil }
        lastEmitted = elapsed
        let text = Self.status(label: label, count: count, elapsed: elapsed, fraction: fraction)
        return interactive ? "\r\u{1B}[K" + text : text + "\n"
    }

    /// The last line: what was done, how long it took, and the rate.
    public func finish(count: Int, elapsed: Double, what: String) -> String {
        let line =
            "\(label): \(what) \(Self.grouped(count)) documents in \(Self.seconds(elapsed)) (\(Self.grouped(Self.rate(count, elapsed)))/s)\n"
        return interactive ? "\r\u{1B}[K" + line : line
    }

    /// `import: 120,000 documents, 48,210/s, 40%, ETA 0:03`.
    public static func status(label: String, count: Int, elapsed: Double, fraction: Double?) -> String {
        var text = "\(label): \(grouped(count)) documents, \(grouped(rate(count, elapsed)))/s"
        if let fraction, fraction > 0, fraction <= 1 {
            text += ", \(Int(fraction * 100))%, ETA \(clock(elapsed * (1 - fraction) / fraction))"
        }
        return text
    }

    static func rate(_ count: Int, _ elapsed: Double) -> Int {
        elapsed > 0 ? Int(Double(count) / elapsed) : 0
    }

    /// `1234567` → `1,234,567`.
    static func grouped(_ n: Int) -> String {
        let digits = Array(String(n.magnitude))
        var out = ""
        for (i, d) in digits.enumerated() {
            if i > 0, (digits.count - i) % 3 == 0 { out.append(",") }
            out.append(d)
        }
        return n < 0 ? "-" + out : out
    }

    /// `75.4` → `1:15`, `3725` → `1:02:05`.
    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        let (h, m, r) = (s / 3600, s / 60 % 60, s % 60)
        let tail = (r < 10 ? "0" : "") + String(r)
        return h > 0 ? "\(h):\(m < 10 ? "0" : "")\(m):\(tail)" : "\(m):\(tail)"
    }

    /// `0.42` → `0.4 s`, `75.4` → `75.4 s`.
    static func seconds(_ elapsed: Double) -> String {
        "\(Double(Int(elapsed * 10)) / 10) s"
    }
}
