import Foundation

/// A complete HTTP request as the application sees it: method, target, headers and body.
/// The path and query are taken from the raw request target, undecoded, so that an
/// encoded `/` inside a path segment stays inside its segment.
public struct HTTPRequest: Sendable {
    public let method: String
    /// The request target exactly as sent, e.g. `/todos?where%5Bdone%5D=false`.
    public let target: String
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]
    /// When the request's headers were read (for latency figures).
    public let startedAt: ContinuousClock.Instant
    /// The peer's IP address as text (empty when unknown), for per-address rate limits.
    public let clientAddress: String

    public init(
        method: String, target: String, headers: [(name: String, value: String)], body: [UInt8],
        startedAt: ContinuousClock.Instant = .now, clientAddress: String = ""
    ) {
        self.method = method
        self.target = target
        self.headers = headers
        self.body = body
        self.startedAt = startedAt
        self.clientAddress = clientAddress
    }

    /// The first value of a header, by case-insensitive name.
    public func header(_ name: String) -> String? {
        headers.value(of: name)
    }
}
