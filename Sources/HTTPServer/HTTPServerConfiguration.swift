/// How the libmicrohttpd daemon is started.
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    /// 0 picks an ephemeral port; `MicroHTTPDServer.port` tells which.
    public var port: UInt16
    /// Threads in libmicrohttpd's pool, each with its own epoll loop.
    public var threads: Int
    /// Connections accepted at once; past it clients wait in the backlog.
    public var connectionLimit: Int
    /// Seconds an idle keep-alive connection is kept.
    public var connectionTimeout: Int
    /// libmicrohttpd's per-connection memory pool (request line and headers).
    public var connectionMemoryLimit: Int
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int

    public init(
        host: String = "127.0.0.1", port: UInt16 = 8080, threads: Int = 0,
        connectionLimit: Int = 16_000, connectionTimeout: Int = 120,
        connectionMemoryLimit: Int = 32 * 1024, maxBodyBytes: Int = 1 << 20
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.connectionTimeout = connectionTimeout
        self.connectionMemoryLimit = connectionMemoryLimit
        self.maxBodyBytes = maxBodyBytes
    }
}
