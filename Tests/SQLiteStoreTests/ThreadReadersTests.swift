import DocumentStore
import Foundation
import GRDB
@testable import SQLiteStore
import TestSupport
import Testing

/// Runs `body` on a thread of its own, as a server thread would, and waits for it.
private func onThread<T: Sendable>(_ thread: ReaderThread, _ body: @escaping @Sendable () throws -> T) throws -> T {
    try thread.run(body)
}

/// One thread that runs closures on request (the readers are per thread), until `stop`.
private final class ReaderThread: @unchecked Sendable {
    private let condition = NSCondition()
    private var job: (@Sendable () -> Void)?
    private var stopped = false

    init() {
        // The thread holds the object (strongly) until `stop` ends its loop.
        let thread = Thread { [self] in
            while true {
                condition.lock()
                while job == nil && !stopped { condition.wait() }
                let next = job
                job = nil
                let done = stopped && next == nil
                condition.unlock()
                if done { return }
                next?()
            }
        }
        thread.start()
    }

    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        let result: Result<T, any Error> = waitFor { done in
            condition.lock()
            job = { done(Result { try body() }) }
            condition.signal()
            condition.unlock()
        }
        return try result.get()
    }
}

@Suite struct ThreadReadersTests {
    /// A thread keeps its read snapshot between requests: after each acknowledged write,
    /// the same thread must see the new version, never the snapshot it held before.
    @Test func aReadAfterAnAcknowledgedWriteSeesIt() throws {
        let store = try makeStore()
        let reader = ReaderThread()
        defer { reader.stop() }
        #expect(try onThread(reader) { try store.read("todos", id: "a").document } == nil)
        for version in 1...50 {
            let object = JSONObject([("id", .string("a")), ("n", .int(Int64(version))), ("_v", .int(Int64(version)))])
            _ = try write(store, "a") { _ in
                version == 1 ? .insert(object, version: 1) : .update(object, version: Int64(version))
            }.get()
            let (document, cursor) = try onThread(reader) { try store.read("todos", id: "a") }
            #expect(document?.version == Int64(version))
            #expect(cursor == (try store.head()))
            let page = try onThread(reader) { try store.list("todos", query: ListQuery(filter: .all, sort: [], limit: 10, skip: 0)) }
            #expect(page.documents.map(\.version) == [Int64(version)])
        }
    }

    /// An idle thread's old snapshot would pin the WAL: it must be let go within about a
    /// second of the store moving on, so that a truncating checkpoint can complete.
    @Test func anIdleThreadLetsGoOfAStaleSnapshot() throws {
        let store = try makeStore()
        try insert(store, #"{"id":"a","title":"x","_v":1}"#)
        let reader = ReaderThread()
        defer { reader.stop() }
        _ = try onThread(reader) { try store.get("todos", id: "a") }  // opens its snapshot
        try insert(store, #"{"id":"b","title":"y","_v":1}"#)  // which is now stale
        Thread.sleep(forTimeInterval: 1.6)
        let started = Date()
        try store.checkpointTruncating()
        #expect(Date().timeIntervalSince(started) < 1, "the checkpoint waited for a reader")
    }

    /// While the WAL is long and writes go on each read ends its transaction: a thread holds
    /// no snapshot between requests, and a checkpoint that needs every reader out of
    /// the WAL does not wait for one (a current snapshot is otherwise kept a second).
    @Test func whileTheWALIsLongAThreadLetsGoAfterEachRead() throws {
        let store = try makeStore()
        let reader = ReaderThread()
        defer { reader.stop() }
        store.readers.letGoAfterEachRead(true)
        try insert(store, #"{"id":"a","title":"x","_v":1}"#)  // writes go on
        _ = try onThread(reader) { try store.get("todos", id: "b") }  // a miss: read from the file
        let started = Date()
        try store.checkpointTruncating()
        #expect(Date().timeIntervalSince(started) < 0.5, "the checkpoint waited for a reader")
    }

    /// Writes by another process on the same file (here: another store instance, which
    /// this one hears nothing from) show within about a second.
    @Test func aWriteFromOutsideShowsWithinASecond() throws {
        let store = try makeStore()
        let other = try SQLiteStore(path: store.path, logger: .init(label: "other"))
        try other.prepare([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        let reader = ReaderThread()
        defer { reader.stop() }
        #expect(try onThread(reader) { try store.get("todos", id: "x") } == nil)
        _ = try write(other, "x") { _ in .insert(JSONObject([("id", .string("x")), ("_v", .int(1))]), version: 1) }.get()
        Thread.sleep(forTimeInterval: 1.2)
        #expect(try onThread(reader) { try store.get("todos", id: "x") }?.version == 1)
    }

    /// Each thread's read connection gets the page cache asked for (`--read-cache`):
    /// SQLite reports a size in KiB as a negative number.
    @Test func aThreadsConnectionHasTheReadCacheAskedFor() throws {
        for bytes in [1 << 20, 48 << 20] {
            let store = try makeStore(readCacheBytes: bytes)
            let reader = ReaderThread()
            defer { reader.stop() }
            let size = try onThread(reader) {
                try store.readers.read { db in try Int.fetchOne(db, sql: "PRAGMA cache_size") }
            }
            #expect(size == .some(-(bytes / 1024)))
        }
    }
}
