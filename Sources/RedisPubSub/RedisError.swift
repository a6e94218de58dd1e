/// Why a Redis connection failed or ended; the reason a pub/sub link reports when it
/// becomes unavailable. Never holds the password.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The TCP connection could not be made (refused, unresolvable, connect timeout).
    case connect(String)
    /// The connection broke: EOF, reset, a failed read or write.
    case io(String)
    /// No answer within the bound (`RedisOptions.commandTimeout`): a hung or paused Redis.
    case timeout(String)
    /// AUTH was refused or is required (NOAUTH, WRONGPASS, ERR invalid password).
    case authentication(String)
    /// Any other error reply (e.g. SELECT of a database the server lacks).
    case server(String)
    /// A reply of a shape the protocol does not allow here.
    case unexpectedReply(String)

    public var description: String {
        switch self {
        case .connect(let reason): "cannot connect: \(reason)"
        case .io(let reason): "connection lost: \(reason)"
        case .timeout(let reason): "no answer: \(reason)"
        case .authentication(let reason): "authentication failed: \(reason)"
        case .server(let reason): "error reply: \(reason)"
        case .unexpectedReply(let reason): "unexpected reply: \(reason)"
        }
    }
}
