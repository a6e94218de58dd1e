/// A response to be sent: a status, headers and a body held in memory, or a stream.
public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// When set, the body is this endless stream instead of `body`.
    public var stream: ResponseStream?
    /// Not sent: what the application adds to the request's log line (its request id,
    /// the route it matched), which the server writes once the request is over.
    public var logFields: [(name: String, value: String)] = []
    /// Headers the server may leave out when the connection has no room for them:
    /// libmicrohttpd writes an answer's head into what the request's head left of the
    /// connection's memory. For advisory headers that grow with the request (a list's
    /// `Link` repeats its query twice).
    public var omittable: [String] = []

    public init(status: Int, headers: [(name: String, value: String)] = [], stream: ResponseStream) {
        self.status = status
        self.headers = headers
        self.body = []
        self.stream = stream
    }

    public init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public mutating func setHeader(_ name: String, _ value: String) {
        headers.removeAll { headerNamesEqual($0.name, name) }
        headers.append((name, value))
    }

    public func header(_ name: String) -> String? {
        headers.value(of: name)
    }
}
