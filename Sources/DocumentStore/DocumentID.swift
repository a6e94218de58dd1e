import Foundation
import Synchronization

/// Document ids: generated ones in MongoDB ObjectId shape (24 hex digits: seconds,
/// a per-process random part, a counter), client ones checked against the design's
/// pattern `^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}$`.
public enum DocumentID {
    private static let processRandom: UInt64 = UInt64.random(in: 0..<(1 << 40))
    private static let counter = Atomic<UInt32>(UInt32.random(in: 0..<(1 << 24)))

    public static func generate(now: Date = Date()) -> String {
        let seconds = UInt64(UInt32(truncatingIfNeeded: Int64(now.timeIntervalSince1970)))
        let count = UInt64(counter.add(1, ordering: .relaxed).newValue & 0xFF_FFFF)
        return String(unsafeUninitializedCapacity: 24) { buffer in
            var end = HexDigits.write(seconds, width: 8, into: buffer, at: 0)
            end = HexDigits.write(processRandom, width: 10, into: buffer, at: end)
            return HexDigits.write(count, width: 6, into: buffer, at: end)
        }
    }

    public static func isValid(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard let first = utf8.first, utf8.count <= 128 else { return false }
        func allowed(_ b: UInt8) -> Bool {
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A)
                || b == UInt8(ascii: "_") || b == UInt8(ascii: "~") || b == UInt8(ascii: "-")
        }
        guard allowed(first) else { return false }
        return utf8.dropFirst().allSatisfy { allowed($0) || $0 == UInt8(ascii: ".") }
    }
}
