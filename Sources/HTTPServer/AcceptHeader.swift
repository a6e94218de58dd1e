/// Whether an `Accept` value lists a media type with a weight above 0 (RFC 9110 §12.5.1:
/// `q=0` means "not acceptable"), read on its bytes. Browsers send jQuery's
/// `application/json, text/javascript, */*; q=0.01` with every Backbone fetch:
/// lowercasing and splitting it into strings cost more than the rest of a read.
public enum AcceptHeader {
    /// `mediaType` in lowercase, without parameters (`text/event-stream`). Ranges such as
    /// `*/*` or `text/*` are not taken as naming it.
    public static func lists(_ mediaType: StaticString, in accept: String) -> Bool {
        var accept = accept
        return accept.withUTF8 { bytes in
            let wanted = UnsafeBufferPointer(start: mediaType.utf8Start, count: mediaType.utf8CodeUnitCount)
            var start = 0
            while start < bytes.count {
                var end = start
                while end < bytes.count, bytes[end] != UInt8(ascii: ",") { end += 1 }
                if listed(wanted, in: UnsafeBufferPointer(rebasing: bytes[start..<end])) { return true }
                start = end + 1
            }
            return false
        }
    }

    /// One media range, `type/subtype *( ; parameter )`: its type is `wanted` and its
    /// `q`, if any, is above 0 (a `q` that is not a number counts as 1).
    private static func listed(_ wanted: UnsafeBufferPointer<UInt8>, in range: UnsafeBufferPointer<UInt8>) -> Bool {
        let semicolon = UInt8(ascii: ";")
        var end = range.firstIndex(of: semicolon) ?? range.endIndex
        guard equalIgnoringCase(trimmed(range[range.startIndex..<end]), wanted) else { return false }
        while end < range.endIndex {
            let start = end + 1
            end = range[start...].firstIndex(of: semicolon) ?? range.endIndex
            let parameter = trimmed(range[start..<end])
            guard parameter.count >= 2, parameter[parameter.startIndex] | 0x20 == UInt8(ascii: "q"),
                parameter[parameter.startIndex + 1] == UInt8(ascii: "=")
            else { continue }
            guard let q = Double(String(decoding: parameter.dropFirst(2), as: UTF8.self)) else { return true }
            return q > 0
        }
        return true
    }

    private static func trimmed(_ bytes: Slice<UnsafeBufferPointer<UInt8>>) -> Slice<UnsafeBufferPointer<UInt8>> {
        var s = bytes
        while let c = s.first, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { s = s.dropFirst() }
        while let c = s.last, c == UInt8(ascii: " ") || c == UInt8(ascii: "\t") { s = s.dropLast() }
        return s
    }

    /// `wanted` is lowercase: a byte matches it, or is its uppercase letter.
    private static func equalIgnoringCase(_ bytes: Slice<UnsafeBufferPointer<UInt8>>, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count == wanted.count else { return false }
        for (b, w) in zip(bytes, wanted) where b != w {
            guard b | 0x20 == w, w >= UInt8(ascii: "a"), w <= UInt8(ascii: "z") else { return false }
        }
        return true
    }
}
