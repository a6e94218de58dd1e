import Glibc
import Logging

/// Gives back the executable's pages that only starting up touched.
///
/// The binary carries the Swift runtime and Foundation (`--static-swift-stdlib`).
/// Starting up runs code scattered over its text, and the kernel maps every page fault
/// with its neighbours (fault-around, 64 KiB at a time), so an idle server held some
/// 17 MB of the binary's file pages, most of which it never touches again. Once the
/// server listens, `MADV_PAGEOUT` drops them; the pages a request runs come back on
/// first use. Clean file pages only: nothing is written, and a page still mapped by
/// another process (a second server from the same file) stays.
enum StartupPages {
    /// `MADV_PAGEOUT` (Linux 5.4); older kernels answer EINVAL and nothing changes.
    private static let pageOut: Int32 = 21

    /// Returns the bytes of mappings advised, for the debug log.
    @discardableResult
    static func release(logger: Logger) -> Int {
        guard let executable = executablePath(), let maps = fopen("/proc/self/maps", "r") else { return 0 }
        defer { fclose(maps) }
        var advised = 0
        var line = [CChar](repeating: 0, count: 4096)
        while fgets(&line, Int32(line.count), maps) != nil {
            let text = line.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            guard let range = readOnlyRange(text, of: executable) else { continue }
            if madvise(UnsafeMutableRawPointer(bitPattern: range.start), range.count, pageOut) == 0 {
                advised += range.count
            }
        }
        logger.debug("start-up pages of the executable given back", metadata: ["bytes": "\(advised)"])
        return advised
    }

    /// The address range of a `/proc/self/maps` line that maps `executable` without
    /// write permission (text and read-only data: clean, backed by the file).
    static func readOnlyRange(_ line: String, of executable: String) -> (start: UInt, count: Int)? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 6, fields[1].hasPrefix("r"), !fields[1].contains("w"),
            fields[5...].joined(separator: " ").trimmingTrailingNewline == executable
        else { return nil }
        let bounds = fields[0].split(separator: "-")
        guard bounds.count == 2, let start = UInt(bounds[0], radix: 16), let end = UInt(bounds[1], radix: 16), end > start
        else { return nil }
        return (start, Int(end - start))
    }

    private static func executablePath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

extension String {
    fileprivate var trimmingTrailingNewline: String {
        hasSuffix("\n") ? String(dropLast()) : self
    }
}
