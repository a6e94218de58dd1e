/// Header names compare without regard to ASCII case (RFC 9110 §5.1). Done on bytes:
/// Foundation's `caseInsensitiveCompare` goes through locale-aware CFString code and
/// showed up in profiles of the request path.
public func headerNamesEqual(_ a: String, _ b: String) -> Bool {
    var x = a.utf8.makeIterator()
    var y = b.utf8.makeIterator()
    while true {
        switch (x.next(), y.next()) {
        case (nil, nil): return true
        case (let p?, let q?):
            if p == q { continue }
            if p | 0x20 != q | 0x20 { return false }
            let lower = p | 0x20
            if lower < UInt8(ascii: "a") || lower > UInt8(ascii: "z") { return false }
        default: return false
        }
    }
}

extension Array where Element == (name: String, value: String) {
    /// The first value of a header, by case-insensitive name.
    public func value(of name: String) -> String? {
        first { headerNamesEqual($0.name, name) }?.value
    }
}
