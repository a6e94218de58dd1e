/// How the libmicrohttpd daemon is started.
public struct HTTPServerConfiguration: Sendable {
    public var host: String
    /// 0 picks an ephemeral port; `MicroHTTPDServer.port` tells which.
    public var port: UInt16
    /// Threads in libmicrohttpd's pool, each with its own epoll loop.
    public var threads: Int
    /// Connections accepted at once; past it clients wait in the backlog.
    public var connectionLimit: Int
    /// Connections open at once from one address, streams included (0: no cap); past
    /// it a new connection is closed as soon as it is accepted.
    public var perAddressConnectionLimit: Int
    /// Seconds an idle keep-alive connection is kept.
    public var connectionTimeout: Int
    /// Seconds a request may take to arrive whole, headers and body, from the moment
    /// the connection opens or the previous request on it completes, however steadily
    /// its bytes trickle in (0: no limit). An answered request (a stream) is exempt.
    public var requestTimeout: Int
    /// libmicrohttpd's per-connection memory pool (request line and headers).
    public var connectionMemoryLimit: Int
    /// Largest request body accepted; larger ones get 413.
    public var maxBodyBytes: Int
    /// Streams leave libmicrohttpd once their head is out, for a loop of the server's
    /// own (`StreamSocketLoop`): an idle stream then costs no connection pool.
    public var handOffStreams: Bool

    public init(
        host: String = "127.0.0.1", port: UInt16 = 8080, threads: Int = 0,
        connectionLimit: Int = 16_000, perAddressConnectionLimit: Int = 0, connectionTimeout: Int = 120,
        requestTimeout: Int = 0,
        connectionMemoryLimit: Int = 32 * 1024, maxBodyBytes: Int = 1 << 20, handOffStreams: Bool = true
    ) {
        self.host = host
        self.port = port
        self.threads = threads
        self.connectionLimit = connectionLimit
        self.perAddressConnectionLimit = perAddressConnectionLimit
        self.connectionTimeout = connectionTimeout
        self.requestTimeout = requestTimeout
        self.connectionMemoryLimit = connectionMemoryLimit
        self.maxBodyBytes = maxBodyBytes
        self.handOffStreams = handOffStreams
    }
}
