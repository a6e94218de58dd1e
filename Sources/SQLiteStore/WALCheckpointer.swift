import CSQLite
import Dispatch
import Foundation
import GRDB
import Synchronization

/// Copies the WAL back into the database file on a thread of its own, instead of in
/// the commit that crossed SQLite's threshold.
///
/// SQLite's automatic checkpoint runs inside the commit: the writer copies every page
/// of the WAL and syncs the file twice before that commit returns, and every write
/// queued behind it waits. Here the writer connection's WAL hook (which replaces the
/// automatic checkpoint) only looks at the WAL's length after each commit, whoever
/// committed (a batch, an import, a migration), and wakes a passive checkpoint on a
/// connection of its own, which copies while the writer goes on, and syncs what it
/// copied (figures: bench/NOTES.md#checkpoints, #prune).
///
/// A passive checkpoint copies the frames that existed when it began; the writer can
/// start the WAL over only when every frame has been copied, and under unbroken writes
/// new ones always arrive meanwhile. So once the WAL passes `inlineFrames` the commit
/// checkpoints inline, as SQLite would: by then the background has copied nearly
/// everything, the inline checkpoint copies the rest, and the next transaction starts
/// the WAL over, if no reader is in the WAL then: the store is told (`Event`), and its
/// readers stop keeping snapshots between reads until it has. The WAL file stays
/// within about `inlineFrames` pages.
final class WALCheckpointer: Sendable {
    /// WAL frames not yet copied that wake the background checkpoint (SQLite's own
    /// automatic checkpoint threshold).
    let backgroundFrames: Int
    /// WAL frames at which the committing connection checkpoints inline.
    let inlineFrames: Int

    private struct State {
        var running = false
        /// The WAL's length after the last commit.
        var frames = 0
        /// The WAL's length when the last background and inline checkpoints began.
        var lastBackground = 0
        var lastInline = 0
        /// Past `inlineFrames`, the store told (`Event.long`).
        var long = false
    }

    private let path: String
    private let pool: DatabasePool
    private let state = Mutex(State())
    private let queue = DispatchQueue(label: "sqlite-store.checkpoint")
    /// Opened by the first background checkpoint, used only on `queue`: its connection,
    /// and the database file, to sync what it copied.
    private let opened = Mutex<(connection: DatabaseQueue, file: FileHandle)?>(nil)
    /// Checkpoints made, in the background and inline.
    let background = Atomic<Int>(0)
    let inline = Atomic<Int>(0)

    /// The WAL's length in frames after the last commit.
    var frames: Int { state.withLock { $0.frames } }

    /// What the store is told, so that its readers let go of the WAL when it matters.
    enum Event {
        /// A checkpoint could not copy the whole WAL: a reader holds an old snapshot
        /// (an idle thread's, say).
        case pinned
        /// The WAL passed `inlineFrames`: only a commit that finds no reader in the WAL
        /// can start it over, so readers should not keep snapshots between reads.
        case long
        /// The WAL started over.
        case startedOver
    }

    private let told: @Sendable (Event) -> Void

    /// Installs the hook on the pool's writer connection, and has SQLite cut the WAL
    /// file back to about `inlineFrames` pages when it starts over after growing past
    /// them (a reader that pinned it, a burst): the file never shrinks otherwise.
    init(
        path: String, pool: DatabasePool, backgroundFrames: Int = 1000, inlineFrames: Int = 8000,
        told: @escaping @Sendable (Event) -> Void = { _ in }
    ) throws {
        self.path = path
        self.pool = pool
        self.backgroundFrames = backgroundFrames
        self.inlineFrames = inlineFrames
        self.told = told
        let context = Unmanaged.passUnretained(self).toOpaque()
        try pool.writeWithoutTransaction { db in
            let pageSize = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            try db.execute(sql: "PRAGMA journal_size_limit = \(inlineFrames * (pageSize + 24))")
            _ = sqlite3_wal_hook(db.sqliteConnection, walHook, context)
        }
    }

    deinit {
        // The hook holds this object unretained: take it off before the memory goes.
        pool.writeWithoutTransaction { db in _ = sqlite3_wal_hook(db.sqliteConnection, nil, nil) }
    }

    /// Called by the writer connection after each commit, inside it, with the WAL's
    /// length in frames.
    fileprivate func committed(frames: Int, connection db: OpaquePointer?, schema: UnsafePointer<CChar>?) {
        enum Action { case none, background, inline }
        var news: Event?
        let action = state.withLock { s -> Action in
            s.frames = frames
            if frames < max(s.lastBackground, s.lastInline) || (s.long && frames < inlineFrames) {  // started over
                (s.lastBackground, s.lastInline) = (0, 0)
                if s.long { (s.long, news) = (false, .startedOver) }
            }
            if frames >= inlineFrames, !s.long { (s.long, news) = (true, .long) }
            // Inline at every commit past the limit, until the WAL starts over; after a
            // try that could not copy everything (a reader's old snapshot) only a
            // background's worth of frames later: trying at each commit would copy
            // nothing more. The same spacing for the background checkpoints.
            if frames >= inlineFrames, s.lastInline == 0 || frames >= s.lastInline + backgroundFrames { return .inline }
            // Past the limit only the inline one can start the WAL over: none in the
            // background then, which would only keep it busy.
            if frames >= inlineFrames || s.running || frames < s.lastBackground + backgroundFrames { return .none }
            s.running = true
            s.lastBackground = frames
            return .background
        }
        if let news { told(news) }
        switch action {
        case .none:
            return
        case .inline:
            // What SQLite's automatic checkpoint does. Busy (the background one is still
            // copying): the next commit tries again. Not everything copied (a reader's
            // old snapshot): again a background's worth of frames later.
            var copied: Int32 = 0
            let code = sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nil, &copied)
            if code == SQLITE_OK { inline.add(1, ordering: .relaxed) }
            if code != SQLITE_BUSY, Int(copied) < frames {
                state.withLock { $0.lastInline = frames }
                told(.pinned)
            }
        case .background:
            queue.async { self.checkpointInBackground() }
        }
    }

    private func checkpointInBackground() {
        do {
            let (db, file) = try opened.withLock { o in
                if let o { return o }
                var configuration = Configuration()
                configuration.label = "checkpoint"
                configuration.busyMode = .timeout(1)
                let connection = try DatabaseQueue(path: path, configuration: configuration)
                guard let file = FileHandle(forReadingAtPath: path) else { throw CocoaError(.fileReadNoSuchFile) }
                o = (connection, file)
                return (connection, file)
            }
            // Again while commits made meanwhile brought another background's worth
            // (triggers that came during the run were not taken).
            repeat {
                let result = try db.writeWithoutTransaction { try $0.checkpoint(.passive) }
                // SQLite syncs the database file only when a checkpoint has copied the
                // whole WAL: the inline one, on the writer, which then flushed every page
                // the background copies left dirty since the last (figures:
                // bench/NOTES.md#prune). Synced here, off the writer, it finds little left.
                _ = fdatasync(file.fileDescriptor)
                background.add(1, ordering: .relaxed)
                // Short of the frames there were when it was woken: likely a reader's old
                // snapshot (the writer can also hold an older read mark for a moment, so
                // the store's sweep may come for nothing: it is cheap).
                if result.checkpointedFrameCount < state.withLock({ $0.lastBackground }) { told(.pinned) }
            } while state.withLock { s in
                guard s.frames < inlineFrames, s.frames >= s.lastBackground + backgroundFrames else { return false }
                s.lastBackground = s.frames
                return true
            }
        } catch {
            // Busy (the inline one is copying) or a failure to open: the commits go on,
            // and the inline checkpoint keeps the WAL bounded.
        }
        state.withLock { $0.running = false }
    }
}

/// The WAL hook: SQLite calls it after each commit on the writer connection.
private func walHook(
    _ context: UnsafeMutableRawPointer?, _ db: OpaquePointer?, _ schema: UnsafePointer<CChar>?, _ frames: Int32
) -> Int32 {
    guard let context else { return SQLITE_OK }
    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue()
        .committed(frames: Int(frames), connection: db, schema: schema)
    return SQLITE_OK
}
