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
        var id = id
        // Bytes from a table: every request that names a document checks its id.
        return id.withUTF8 { bytes in
            guard let first = bytes.first, bytes.count <= 128, allowed[Int(first)] == 1 else { return false }
            return bytes.dropFirst().allSatisfy { allowed[Int($0)] != 0 }
        }
    }

    /// 1: may start an id (`A-Z a-z 0-9 _ ~ -`); 2: may follow (`.`); 0: neither.
    private static let allowed: [UInt8] = (0..<256).map { byte in
        switch UInt8(byte) {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "_"), UInt8(ascii: "~"), UInt8(ascii: "-"):
            1
        case UInt8(ascii: "."): 2
        default: 0
        }
    }
}
