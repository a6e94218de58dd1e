import Foundation
import Testing

@testable import DataTransfer

/// Lines of a file descriptor, numbered as an editor numbers them.
@Suite struct LineReaderTests {
    @Test func linesAreNumberedBlankOnesCountedAndTheLastNeedsNoNewline() throws {
        let path = NSTemporaryDirectory() + "lines-\(UUID().uuidString)"
        let long = String(repeating: "x", count: 3 << 20)
        try "a\r\n\n  \nb\n\(long)\nc".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let fd = open(path, O_RDONLY)
        defer { close(fd) }
        var seen: [(Int, Int, Int)] = []
        try LineReader(fd: fd).forEach { number, line, read in seen.append((number, line.count, read)) }
        #expect(seen.map(\.0) == [1, 4, 5, 6])
        #expect(seen.map(\.1) == [1, 1, 3 << 20, 1])
        #expect(seen.map(\.2) == [3, 9, 10 + 3 << 20, 11 + 3 << 20])
    }
}
