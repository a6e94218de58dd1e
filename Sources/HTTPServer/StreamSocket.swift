import CLinuxEvents
import Glibc

/// A stream's socket once the server has taken it over from libmicrohttpd
/// (`StreamSocketLoop`): the body goes on in the framing libmicrohttpd started it in,
/// written by whoever has bytes for it, never waiting.
struct StreamSocket: Sendable {
    enum Framing: Sendable {
        /// HTTP/1.1: each write is one chunk, and a zero-length chunk ends the body.
        case chunked
        /// HTTP/1.0: the bytes as they are; the body ends when the socket closes.
        case raw
    }

    enum SendResult: Equatable {
        /// This many bytes went out (maybe fewer than offered: the socket's buffer is full).
        case sent(Int)
        /// None went out: the socket's buffer is full; wait for it to drain.
        case wouldBlock
        /// The connection is broken (reset, or gone).
        case failed
    }

    let fd: Int32
    let framing: Framing
    /// Whose connection it is, for the per-address cap.
    let clientAddress: String
    /// The stream's key in its loop's table: epoll events name it.
    let token: UInt64

    /// The bytes that end the body.
    var terminator: [UInt8] {
        switch framing {
        case .chunked: Array("0\r\n\r\n".utf8)
        case .raw: []
        }
    }

    /// `bytes` as they go on the wire.
    func framed(_ bytes: [UInt8]) -> [UInt8] {
        guard framing == .chunked else { return bytes }
        if bytes.isEmpty { return [] }  // an empty chunk would end the body
        var out = Self.chunkHead(bytes.count)
        out.reserveCapacity(out.count + bytes.count + 2)
        out.append(contentsOf: bytes)
        out.append(contentsOf: [13, 10])
        return out
    }

    /// Bytes on the wire for `bytes` (what `framed` would return, without building it).
    func framedCount(_ bytes: [UInt8]) -> Int {
        guard framing == .chunked else { return bytes.count }
        return bytes.isEmpty ? 0 : Self.chunkHead(bytes.count).count + bytes.count + 2
    }

    /// Sends `bytes` framed, straight from the caller's array: the common case, an idle
    /// stream given one event, copies nothing and allocates nothing.
    func sendFramed(_ bytes: [UInt8]) -> SendResult {
        guard framing == .chunked else { return send(bytes[...]) }
        if bytes.isEmpty { return .sent(0) }  // an empty chunk would end the body
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { head in
            let headCount = Self.writeChunkHead(bytes.count, into: head)
            return bytes.withUnsafeBytes { body in
                withUnsafeTemporaryAllocation(of: iovec.self, capacity: 3) { vector in
                    vector[0] = iovec(iov_base: UnsafeMutableRawPointer(head.baseAddress), iov_len: headCount)
                    vector[1] = iovec(iov_base: UnsafeMutableRawPointer(mutating: body.baseAddress), iov_len: body.count)
                    // The chunk's closing CRLF: the head's last two bytes.
                    vector[2] = iovec(iov_base: UnsafeMutableRawPointer(head.baseAddress! + headCount - 2), iov_len: 2)
                    var message = msghdr()
                    message.msg_iov = vector.baseAddress
                    message.msg_iovlen = 3
                    return Self.retrying { sendmsg(fd, &message, Self.flags) }
                }
            }
        }
    }

    /// Sends what it can of bytes already framed.
    func send(_ bytes: ArraySlice<UInt8>) -> SendResult {
        bytes.withUnsafeBytes { bytes in Self.retrying { Glibc.send(fd, bytes.baseAddress, bytes.count, Self.flags) } }
    }

    /// Never raise SIGPIPE on a client that has gone; never block.
    private static let flags = CLE_MSG_NOSIGNAL | CLE_MSG_DONTWAIT

    private static func retrying(_ call: () -> Int) -> SendResult {
        while true {
            let n = call()
            if n >= 0 { return .sent(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock
            default: return .failed
            }
        }
    }

    /// `<size in hex>\r\n`.
    private static func chunkHead(_ count: Int) -> [UInt8] {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { head in
            Array(head[..<writeChunkHead(count, into: head)])
        }
    }

    /// Writes `<size in hex>\r\n` at the start of `head` (20 bytes is room for any
    /// `Int`); returns its length.
    private static func writeChunkHead(_ count: Int, into head: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let digits: StaticString = "0123456789abcdef"
        var length = 1
        while count >> (4 * length) != 0 { length += 1 }
        for i in 0..<length {
            head[length - 1 - i] = digits.utf8Start[(count >> (4 * i)) & 15]
        }
        head[length] = 13
        head[length + 1] = 10
        return length + 2
    }
}
