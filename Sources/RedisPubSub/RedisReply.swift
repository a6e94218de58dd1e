/// A reply, copied out of hiredis's `redisReply` (RESP2 shapes). Bulk strings are decoded
/// as UTF-8: every payload this module sends is text.
enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int64)
    case string(String)
    case array([RedisReply])
    case null

    /// The reply, or `RedisError.server`/`.authentication` for an error reply.
    func orThrow() throws(RedisError) -> RedisReply {
        guard case .error(let message) = self else { return self }
        let authentication = ["NOAUTH", "WRONGPASS", "ERR invalid password", "ERR AUTH", "ERR Client sent AUTH"]
        if authentication.contains(where: { message.hasPrefix($0) }) { throw .authentication(message) }
        throw .server(message)
    }
}
