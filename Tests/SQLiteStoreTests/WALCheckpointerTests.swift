import Foundation
import GRDB
@testable import SQLiteStore
import Synchronization
import Testing

/// A WAL-mode file with one table, and a checkpointer on its writer with small limits.
private struct WALFile {
    let path: String
    let pool: DatabasePool
    let checkpointer: WALCheckpointer
    /// What the checkpointer told, in order.
    let told = Told()

    final class Told: Sendable {
        private let events = Mutex<[WALCheckpointer.Event]>([])
        func append(_ event: WALCheckpointer.Event) { events.withLock { $0.append(event) } }
        var all: [WALCheckpointer.Event] { events.withLock { $0 } }
        var pinned: Int { all.filter { $0 == .pinned }.count }
    }

    init(backgroundFrames: Int, inlineFrames: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("wal-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        path = dir.appendingPathComponent("app.sqlite").path
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)  // as the store's
        pool = try DatabasePool(path: path, configuration: configuration)
        try pool.write { try $0.execute(sql: "CREATE TABLE t (body TEXT NOT NULL)") }
        checkpointer = try WALCheckpointer(
            path: path, pool: pool, backgroundFrames: backgroundFrames, inlineFrames: inlineFrames
        ) { [told] in told.append($0) }
    }

    /// One commit per row; a row of 2 KB dirties at least one page, so each commit adds
    /// at least one frame to the WAL.
    func commit(rows: Int) throws {
        let body = String(repeating: "x", count: 2000)
        for _ in 0..<rows {
            try pool.write { try $0.execute(sql: "INSERT INTO t (body) VALUES (?)", arguments: [body]) }
        }
    }

    func bytes(_ suffix: String = "") -> Int {
        ((try? FileManager.default.attributesOfItem(atPath: path + suffix))?[.size] as? Int) ?? 0
    }

    /// The WAL file's length in frames of the default 4 KiB page.
    var walFrames: Int { max(0, bytes("-wal") - 32) / (4096 + 24) }
}

@Suite struct WALCheckpointerTests {
    /// Past the background threshold, the pages reach the database file without the
    /// writer copying them: the file grows while no commit has checkpointed.
    @Test func theBackgroundCopiesTheWALIntoTheFile() throws {
        let file = try WALFile(backgroundFrames: 20, inlineFrames: 100_000)
        let before = file.bytes()
        try file.commit(rows: 60)
        // All but the last background's worth of frames (20 of 2 per row) reach the
        // file: 50 rows of 2 KB.
        let deadline = Date().addingTimeInterval(10)
        while file.bytes() < before + 50 * 2000, Date() < deadline {
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(file.bytes() >= before + 50 * 2000)
        #expect(file.checkpointer.background.load(ordering: .relaxed) >= 1)
        #expect(file.checkpointer.inline.load(ordering: .relaxed) == 0)
    }

    /// Under unbroken commits a background checkpoint never finds the WAL fully copied,
    /// so only the inline one lets it start over: the WAL file stays within its limit
    /// (no background one here, which would make the last inline try wait for it).
    @Test func unbrokenCommitsKeepTheWALWithinItsLimit() throws {
        let file = try WALFile(backgroundFrames: 100_000, inlineFrames: 200)
        try file.commit(rows: 2000)
        #expect(file.checkpointer.inline.load(ordering: .relaxed) >= 1)
        #expect(file.walFrames < 200 + 10, "WAL of \(file.walFrames) frames")
        // Each time past the limit the store hears it, and again when the WAL starts over.
        let turns = file.told.all.filter { $0 != .pinned }
        #expect(turns.count >= 2)
        #expect(zip(turns, turns.dropFirst()).allSatisfy { $0 != $1 }, "\(turns)")
        #expect(turns.first == .long)
        #expect(try file.pool.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM t") } == 2000)
    }

    /// A reader's old snapshot keeps any checkpoint from copying past it: the store is
    /// told (it then ends its idle threads' snapshots), commits try inline only once per
    /// background's worth of frames, not at every commit, and once the reader is done
    /// the WAL starts over.
    @Test func aPinnedWALIsNotCheckpointedAtEveryCommit() throws {
        let file = try WALFile(backgroundFrames: 100, inlineFrames: 200)
        try file.commit(rows: 10)
        var configuration = Configuration()
        configuration.allowsUnsafeTransactions = true  // the snapshot outlives the access
        configuration.busyMode = .timeout(10)
        let reader = try DatabaseQueue(path: file.path, configuration: configuration)
        try reader.writeWithoutTransaction { db in
            try db.beginTransaction(.deferred)
            _ = try Int.fetchOne(db, sql: "SELECT count(*) FROM t")  // takes the snapshot
        }
        try file.commit(rows: 1000)
        let pinnedTries = file.checkpointer.inline.load(ordering: .relaxed)
        #expect(pinnedTries <= 2 * 1000 / 100 + 1, "\(pinnedTries) inline checkpoints while pinned")
        #expect(file.walFrames > 1000)  // the WAL could not start over meanwhile
        #expect(file.told.pinned >= 1)

        try reader.writeWithoutTransaction { try $0.commit() }
        try file.commit(rows: 1200)
        #expect(file.checkpointer.inline.load(ordering: .relaxed) > pinnedTries)
        #expect(file.checkpointer.frames < 300, "the WAL holds \(file.checkpointer.frames) frames once the reader let go")
    }
}
