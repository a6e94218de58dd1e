/// Sizes on the command line: `1MiB`, `512KiB`, `2MB`, `1000000`; `0` (no unit) only
/// where the flag allows it (`allowingZero`: "none").
enum ByteSize {
    static func parse(_ text: String, allowingZero: Bool = false) -> Int? {
        if allowingZero, text == "0" { return 0 }
        let units: [(String, Int)] = [
            ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000),
            ("MB", 1_000_000), ("KB", 1000), ("kB", 1000), ("B", 1),
        ]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            guard let n = Int(text.dropLast(suffix.count).trimmingPrefix(" ")), n > 0 else { return nil }
            return n * factor
        }
        guard let n = Int(text), n > 0 else { return nil }
        return n
    }
}
