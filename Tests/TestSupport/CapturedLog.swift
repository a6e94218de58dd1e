import Logging
import Synchronization

/// A Logger whose lines are kept for the test to read: level, message and metadata.
public final class CapturedLog: Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: Logger.Metadata
    }

    private let kept = Mutex<[Line]>([])

    public init() {}

    public var logger: Logger {
        Logger(label: "test") { _ in Handler(log: self) }
    }

    public var all: [Line] { kept.withLock { $0 } }

    /// The messages logged at `level`.
    public func lines(_ level: Logger.Level) -> [String] {
        all.filter { $0.level == level }.map(\.message)
    }

    fileprivate func append(_ line: Line) {
        kept.withLock { $0.append(line) }
    }

    private struct Handler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append(
                Line(
                    level: event.level, message: event.message.description,
                    metadata: metadata.merging(event.metadata ?? [:]) { $1 }))
        }
    }
}
