/// Sizes on the command line: `1MiB`, `512KiB`, `2MB`, `1000000`.
enum ByteSize {
    static func parse(_ text: String) -> Int? {
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
