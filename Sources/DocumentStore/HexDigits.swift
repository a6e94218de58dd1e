/// Lowercase hexadecimal digits written straight into a string's bytes: ids are made on
/// every request (`DocumentID`, request ids), and building them from arrays or
/// `String(_:radix:)` costs allocations each time.
public enum HexDigits {
    private static let digits: StaticString = "0123456789abcdef"

    /// How many digits `value` takes without leading zeros (at least one).
    public static func count(_ value: UInt64) -> Int {
        max(1, (UInt64.bitWidth - value.leadingZeroBitCount + 3) / 4)
    }

    /// Writes the low `width` digits of `value`, zero-padded, at `offset`; returns the
    /// offset after them.
    public static func write(_ value: UInt64, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        digits.withUTF8Buffer { table in
            var rest = value
            for position in stride(from: offset + width - 1, through: offset, by: -1) {
                buffer[position] = table[Int(rest & 0xF)]
                rest >>= 4
            }
        }
        return offset + width
    }
}
