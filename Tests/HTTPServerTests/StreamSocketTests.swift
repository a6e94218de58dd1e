import Glibc
import Testing

@testable import HTTPServer

/// The framing and the sends of a stream's socket once the server has taken it over,
/// over a real socket pair.
@Suite struct StreamSocketTests {
    /// Runs `body` with a connected pair: the server's end as a stream socket of
    /// `framing` (non-blocking), and the client's end; closes both after.
    private func withPair(_ framing: StreamSocket.Framing, _ body: (StreamSocket, Int32) -> Void) {
        var fds: [Int32] = [0, 0]
        #expect(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
        _ = fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK)
        body(StreamSocket(fd: fds[0], framing: framing, clientAddress: "", token: 1), fds[1])
        close(fds[0])
        close(fds[1])
    }

    private func received(_ fd: Int32) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        let n = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
        return n > 0 ? Array(buffer[..<n]) : []
    }

    @Test func eachWriteIsOneChunkAndTheTerminatorEndsTheBody() {
        withPair(.chunked) { socket, client in
            let event = Array("data: x\n\n".utf8)
            #expect(socket.sendFramed(event) == .sent(socket.framedCount(event)))
            #expect(socket.sendFramed([]) == .sent(0))  // an empty chunk would end the body
            #expect(socket.send(socket.terminator[...]) == .sent(5))
            #expect(String(decoding: received(client), as: UTF8.self) == "9\r\ndata: x\n\n\r\n0\r\n\r\n")
            #expect(socket.framed(event) == Array("9\r\ndata: x\n\n\r\n".utf8))
        }
    }

    @Test func chunkSizesAreHex() {
        let socket = StreamSocket(fd: -1, framing: .chunked, clientAddress: "", token: 1)
        for size in [1, 15, 16, 255, 4096, 70_000] {
            let framed = socket.framed([UInt8](repeating: 65, count: size))
            let head = String(decoding: framed.prefix { $0 != 13 }, as: UTF8.self)
            #expect(head == String(size, radix: 16))
            #expect(framed.count == socket.framedCount([UInt8](repeating: 65, count: size)))
        }
    }

    @Test func http10BytesGoAsTheyAre() {
        withPair(.raw) { socket, client in
            #expect(socket.sendFramed([1, 2, 3]) == .sent(3))
            #expect(received(client) == [1, 2, 3])
            #expect(socket.terminator.isEmpty)
        }
    }

    @Test func aFullSocketTakesPartThenNothing() {
        withPair(.chunked) { socket, _ in
            let big = [UInt8](repeating: 7, count: 4 << 20)
            guard case .sent(let n) = socket.sendFramed(big) else {
                Issue.record("nothing sent to an empty socket")
                return
            }
            #expect(n > 0 && n < socket.framedCount(big))
            #expect(socket.sendFramed(big) == .wouldBlock)
        }
    }

    @Test func aClosedPeerFailsWithoutSIGPIPE() {
        withPair(.chunked) { socket, client in
            shutdown(client, Int32(SHUT_RDWR))
            #expect(socket.sendFramed([1]) == .failed)
        }
    }
}

@Suite struct ConnectionsPerAddressTests {
    @Test func anAddressAtTheCapIsRefusedUntilOneCloses() {
        let counts = ConnectionsPerAddress(limit: 2)
        counts.opened("10.0.0.1")
        #expect(counts.admits("10.0.0.1"))
        counts.opened("10.0.0.1")
        #expect(!counts.admits("10.0.0.1"))
        #expect(counts.admits("10.0.0.2"))
        counts.closed("10.0.0.1")
        #expect(counts.admits("10.0.0.1"))
        counts.closed("10.0.0.1")
        counts.closed("10.0.0.1")  // one close too many counts nothing below zero
        #expect(counts.count("10.0.0.1") == 0)
    }
}
