import DocumentStore
import Foundation
import Logging
import SQLiteStore
import TestSupport
import Testing

@testable import BackboneSSE
@testable import HTTPServer

/// A replay is paced by its reader; the change log may be pruned meanwhile. A stream
/// must then be told to refetch (`reset`), never be handed the rest with a gap.
@Suite struct ReplayPruneTests {
    @Test func aReplayOvertakenByPruningEndsWithResetNotAGap() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("replay-prune-\(UUID().uuidString)")
        let store = try SQLiteStore(path: dir.appendingPathComponent("app.sqlite").path, logger: Logger(label: "test"))
        try store.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        for n in 0..<300 { try insert(store, id: "d\(n)") }

        // A small buffer: the replay of 300 changes pauses after a few of them.
        let buffer = 2048
        let hub = try StreamHub(
            store: store, options: StreamOptions(bufferBytes: buffer), metrics: ServerMetrics(), logger: Logger(label: "test"))
        defer { hub.shutdown(deadline: .milliseconds(100)) }
        let stream = ResponseStream(capacity: buffer, initial: [])
        hub.subscribe(Subscription(collections: ["todos"], documentID: nil, filter: nil), stream: stream, start: 0)
        let deadline = Date().addingTimeInterval(5)
        while stream.pendingCount < buffer / 2, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        #expect(stream.pendingCount >= buffer / 2, "the replay did not fill the buffer")

        // The log loses all but its newest 10 entries while the replay waits for its reader.
        #expect(try store.pruneLog(keep: 10, maxAge: 3600) == 290)

        // The reader drains the stream: the replay goes on, finds the gap, and says so.
        let text = drain(stream, until: Date().addingTimeInterval(5))
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.map { String($0.dropFirst(4)) }
        let sequences = ids.compactMap { ChangeCursor($0)?.sequence }
        #expect(text.contains("event: reset"), "no reset after the log was pruned under the replay")
        #expect(text.contains(#""reason":"expired""#))
        // Before the reset: the changes from the start, with no gap (the reset's own id is the head).
        let creates = Array(sequences.dropLast())
        #expect(!creates.isEmpty)
        #expect(creates == Array(1...Int64(creates.count)), "a change was skipped: \(creates)")
        #expect(sequences.last == 300)
    }

    private func insert(_ store: SQLiteStore, id: String) throws {
        let object = JSONObject([("id", .string(id)), ("_v", .int(1))])
        _ = try waitFor {
            store.write(
                WriteRequest(collection: "todos", id: id, origin: nil, decide: { _ in .insert(object, version: 1) }), completion: $0)
        }.get()
    }

    /// Reads the stream as libmicrohttpd would, until it ends (or the deadline).
    private func drain(_ stream: ResponseStream, until deadline: Date) -> String {
        var bytes: [UInt8] = []
        var chunk = [CChar](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = chunk.withUnsafeMutableBufferPointer { stream.read(into: $0.baseAddress!, max: $0.count) }
            if n < 0 { break }  // ended
            if n == 0 {
                Thread.sleep(forTimeInterval: 0.005)
                continue
            }
            bytes += chunk[0..<n].map { UInt8(bitPattern: $0) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
