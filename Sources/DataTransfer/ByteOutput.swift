import Glibc

/// Buffered writes to a file descriptor (stdout, or an export file), in 1 MiB writes.
public final class ByteOutput {
    public struct WriteError: Error, CustomStringConvertible {
        public let reason: String
        public var description: String { "cannot write: \(reason)" }
    }

    private let fd: Int32
    private var buffer: [UInt8] = []
    private let capacity = 1 << 20

    public init(fd: Int32) {
        self.fd = fd
        buffer.reserveCapacity(capacity + 4096)
    }

    /// Appends through `body` into the buffer; writes the buffer out when it is full.
    public func append(_ body: (inout [UInt8]) -> Void) throws(WriteError) {
        body(&buffer)
        if buffer.count >= capacity { try flush() }
    }

    public func flush() throws(WriteError) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer.withUnsafeBytes { bytes in
                Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw WriteError(reason: String(cString: strerror(errno)))
            }
            offset += n
        }
        buffer.removeAll(keepingCapacity: true)
    }
}
