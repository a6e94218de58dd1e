/// Header names compare without regard to ASCII case (RFC 9110 §5.1). Done on bytes:
/// Foundation's `caseInsensitiveCompare` goes through locale-aware CFString code and
/// showed up in profiles of the request path.
public func headerNamesEqual(_ a: String, _ b: String) -> Bool {
    let (x, y) = (a.utf8, b.utf8)
    // Most names looked up are not the one compared with, and differ in length.
    guard x.count == y.count else { return false }
    let buffers = x.withContiguousStorageIfAvailable { p in y.withContiguousStorageIfAvailable { q in sameLetters(p, q) } }
    return (buffers ?? nil) ?? sameLetters(Array(x), Array(y))
}

private func sameLetters<Bytes: RandomAccessCollection<UInt8>>(_ a: Bytes, _ b: Bytes) -> Bool where Bytes.Index == Int {
    for i in 0..<a.count where a[a.startIndex + i] != b[b.startIndex + i] {
        let lower = a[a.startIndex + i] | 0x20
        guard lower == b[b.startIndex + i] | 0x20, lower >= UInt8(ascii: "a"), lower <= UInt8(ascii: "z") else { return false }
    }
    return true
}

extension Array where Element == (name: String, value: String) {
    /// The first value of a header, by case-insensitive name.
    public func value(of name: String) -> String? {
        first { headerNamesEqual($0.name, name) }?.value
    }
}
