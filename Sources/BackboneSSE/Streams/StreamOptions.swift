/// Settings of the live streams.
public struct StreamOptions: Sendable {
    public var maxStreams: Int
    /// Seconds between `ping`s.
    public var heartbeat: Int
    /// Bytes an unread stream may hold before it is reset and closed.
    public var bufferBytes: Int
    /// Change-log retention: the newest `retainCount` entries, none older than `retainSeconds`.
    public var retainCount: Int
    public var retainSeconds: Int64

    public init(
        maxStreams: Int = 10_000, heartbeat: Int = 15, bufferBytes: Int = 256 * 1024,
        retainCount: Int = 100_000, retainSeconds: Int64 = 7 * 24 * 3600
    ) {
        self.maxStreams = maxStreams
        self.heartbeat = heartbeat
        self.bufferBytes = bufferBytes
        self.retainCount = retainCount
        self.retainSeconds = retainSeconds
    }
}
