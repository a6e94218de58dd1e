import DocumentStore
import HTTPServer
import Synchronization

/// Gives every request an id, carried by its answer as `X-Request-Id` and by the log
/// lines about it, so that a user's report of a failure finds its cause in the log. An
/// id sent by a proxy in front (`X-Request-Id`, up to 64 characters of `A-Z a-z 0-9 . _ -`)
/// is kept; otherwise it is this process's random prefix and a counter.
final class RequestID: AnswerDecorator {
    private let prefix = UInt64(UInt32.random(in: 0...UInt32.max))
    private let counter = Atomic<UInt64>(0)

    func prepare(_ request: inout RouteRequest) {
        if let sent = request.header("X-Request-Id"), Self.isAcceptable(sent) {
            request.requestID = sent
        } else {
            request.requestID = Self.id(prefix: prefix, count: counter.add(1, ordering: .relaxed).newValue)
        }
    }

    /// `<prefix>-<count>`, both in hexadecimal without leading zeros.
    static func id(prefix: UInt64, count: UInt64) -> String {
        let (prefixDigits, countDigits) = (HexDigits.count(prefix), HexDigits.count(count))
        return String(unsafeUninitializedCapacity: prefixDigits + 1 + countDigits) { buffer in
            let dash = HexDigits.write(prefix, width: prefixDigits, into: buffer, at: 0)
            buffer[dash] = UInt8(ascii: "-")
            return HexDigits.write(count, width: countDigits, into: buffer, at: dash + 1)
        }
    }

    func decorate(_ response: inout HTTPResponse, for request: RouteRequest) {
        response.headers.append(("X-Request-Id", request.requestID))
    }

    static func isAcceptable(_ id: String) -> Bool {
        let bytes = id.utf8
        return !bytes.isEmpty && bytes.count <= 64
            && bytes.allSatisfy { b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
            }
    }
}
