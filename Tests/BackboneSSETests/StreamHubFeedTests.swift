import DocumentStore
import Foundation
import Logging
import SQLiteStore
import Synchronization
import TestSupport
import Testing

@testable import BackboneSSE
@testable import HTTPServer

/// The hub behind its feed: it fans out what the feed hands over, reads the log for
/// what the feed skipped, never sends a change twice, and its shutdown ends as soon as
/// the streams have.
@Suite struct StreamHubFeedTests {
    @Test func theHubFansOutTheFeedsChangesReadingTheLogOnAGap() throws {
        let store = try Self.store()
        let feed = ManualFeed()
        let hub = try StreamHub(store: store, feed: feed, options: StreamOptions(), metrics: ServerMetrics(), logger: Logger(label: "test"))
        defer { hub.shutdown(deadline: .milliseconds(100)) }
        #expect(feed.startedAfter == 0)
        let stream = ResponseStream(capacity: 1 << 20, initial: [])
        hub.subscribe(Subscription(collections: ["todos"], documentID: nil, filter: nil), stream: stream, start: 0)

        let changes = try (1...4).map { try Self.insert(store, id: "h\($0)") }
        feed.send([changes[2]])  // 1 and 2 never reported: read from the log
        feed.send([changes[1], changes[2]])  // late again: nothing twice
        feed.send([changes[3]])
        let text = Self.read(stream, until: { $0.components(separatedBy: "event: create").count > 4 })
        let ids = text.split(separator: "\n").filter { $0.hasPrefix("id: ") }.compactMap { ChangeCursor(String($0.dropFirst(4)))?.sequence }
        #expect(ids == [1, 2, 3, 4])
    }

    @Test func shutdownEndsAsSoonAsTheStreamsHaveEnded() throws {
        let store = try Self.store()
        let hub = try StreamHub(store: store, options: StreamOptions(), metrics: ServerMetrics(), logger: Logger(label: "test"))
        let streams = (0..<3).map { _ in ResponseStream(capacity: 4096, initial: []) }
        for stream in streams {
            #expect(hub.reserve())
            hub.subscribe(Subscription(collections: ["todos"], documentID: nil, filter: nil), stream: stream, start: 0)
        }
        // Readers that take the `bye` and end, as libmicrohttpd would.
        for stream in streams {
            Thread.detachNewThread {
                _ = Self.read(stream, until: { _ in false }, for: 5)
                stream.ended()
            }
        }
        let started = ContinuousClock.now
        hub.shutdown(deadline: .seconds(5))
        #expect(ContinuousClock.now - started < .seconds(2), "shutdown waited for its deadline")
        #expect(hub.admission.count == 0)
    }

    static func store() throws -> SQLiteStore {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hub-feed-\(UUID().uuidString)")
        let store = try SQLiteStore(path: dir.appendingPathComponent("app.sqlite").path, logger: Logger(label: "test"))
        try store.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        return store
    }

    static func insert(_ store: SQLiteStore, id: String) throws -> Change {
        let done = DispatchSemaphore(value: 0)
        let outcome = Mutex<Result<WriteResult, StoreError>?>(nil)
        let object = JSONObject([("id", .string(id)), ("_v", .int(1))])
        store.write(WriteRequest(collection: "todos", id: id, origin: nil, decide: { _ in .insert(object, version: 1) })) { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try outcome.withLock { $0 }!.get().change
    }

    /// Reads the stream as libmicrohttpd would, until `enough` says so, it ends, or time is up.
    static func read(_ stream: ResponseStream, until enough: (String) -> Bool, for seconds: Double = 5) -> String {
        let deadline = Date().addingTimeInterval(seconds)
        var bytes: [UInt8] = []
        var chunk = [CChar](repeating: 0, count: 4096)
        while Date() < deadline {
            let n = chunk.withUnsafeMutableBufferPointer { stream.read(into: $0.baseAddress!, max: $0.count) }
            if n < 0 { break }
            if n == 0 {
                if enough(String(decoding: bytes, as: UTF8.self)) { break }
                Thread.sleep(forTimeInterval: 0.005)
                continue
            }
            bytes += chunk[0..<n].map { UInt8(bitPattern: $0) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
