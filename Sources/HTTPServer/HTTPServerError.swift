public enum HTTPServerError: Error, CustomStringConvertible {
    case cannotStart(host: String, port: UInt16, reason: String)

    public var description: String {
        switch self {
        case .cannotStart(let host, let port, let reason):
            return "cannot listen on \(host):\(port): \(reason)"
        }
    }
}
