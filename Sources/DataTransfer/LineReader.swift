import Glibc

/// The lines of a file descriptor (stdin, or a file), numbered from 1, read in 1 MiB
/// chunks. A last line without a newline counts; a CR before a newline is dropped;
/// blank lines are passed over (but counted).
public struct LineReader {
    public struct ReadError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "cannot read: \(reason)" }
    }

    private let fd: Int32

    public init(fd: Int32) {
        self.fd = fd
    }

    /// Calls `body` with each line's number and bytes, and the bytes of the input up
    /// to the line's end.
    public func forEach(_ body: (_ number: Int, _ line: [UInt8], _ bytesRead: Int) throws -> Void) throws {
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var carry: [UInt8] = []
        var number = 0
        var total = 0
        var end = 0
        func emit(_ line: ArraySlice<UInt8>) throws {
            number += 1
            var bytes = line
            if bytes.last == UInt8(ascii: "\r") { bytes = bytes.dropLast() }
            if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { return }
            try body(number, Array(bytes), end)
        }
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ReadError(reason: String(cString: strerror(errno)))
            }
            if n == 0 { break }
            let before = total
            total += n
            var start = 0
            for i in 0..<n where chunk[i] == UInt8(ascii: "\n") {
                end = before + i + 1
                if carry.isEmpty {
                    try emit(chunk[start..<i])
                } else {
                    carry.append(contentsOf: chunk[start..<i])
                    try emit(carry[...])
                    carry.removeAll(keepingCapacity: true)
                }
                start = i + 1
            }
            carry.append(contentsOf: chunk[start..<n])
        }
        end = total
        if !carry.isEmpty { try emit(carry[...]) }
    }
}
