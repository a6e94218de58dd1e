import Dispatch
import Foundation
import GRDB
import Synchronization

/// A read-only connection per server thread, each keeping its read transaction open
/// from one request to the next until the store writes.
///
/// Reading through `DatabasePool` took several dispatch-queue hops and semaphore
/// rounds per request; a connection owned by the calling thread needs one. And in WAL
/// mode every read transaction takes and drops a lock on the shared-memory index with
/// `fcntl`: reusing the snapshot while nothing was committed skips both, so a burst of
/// reads costs no system call at all. Each commit moves `generation` on before any
/// writer is answered, so a read that starts after an acknowledged write always sees it.
///
/// libmicrohttpd's pool has a fixed, small set of threads; callers past `capacity`
/// distinct threads (dispatch workers) fall back to the pool.
final class ThreadReaders: Sendable {
    /// One thread's connection, and what is known of its open read transaction. Its
    /// thread and the sweeper both use it, each only inside the connection's serialized
    /// access (`queue.inDatabase`): that is what makes it safe to share, hence
    /// `@unchecked Sendable`. The snapshot's fields are reached through `self[db]`,
    /// which checks (debug builds) that the caller is inside that access, on this
    /// connection; nothing else locks them.
    private final class Reader: @unchecked Sendable {
        struct Snapshot {
            var generation = -1
            var begun = ContinuousClock.now
            /// The change log's head in the current snapshot, once read.
            var head: Int64?
        }

        let queue: DatabaseQueue
        let statements = HotStatements()
        let deadline: ReadDeadline
        private let connection: SQLiteConnection?
        private var snapshot = Snapshot()

        init(queue: DatabaseQueue) {
            self.queue = queue
            connection = queue.inDatabase { $0.sqliteConnection }
            deadline = ReadDeadline(on: connection)
        }

        subscript(db: Database) -> Snapshot {
            get {
                assertInside(db)
                return snapshot
            }
            set {
                assertInside(db)
                snapshot = newValue
            }
        }

        private func assertInside(_ db: Database) {
            assert(db.sqliteConnection == connection, "a thread reader's snapshot used with another connection")
            db.assertSerializedAccess()
        }
    }

    private let path: String
    private let configuration: Configuration
    private let readers = Mutex<[UInt: Reader]>([:])
    private let capacity: Int
    /// Moves on at every commit; a snapshot taken at an older generation may be stale.
    private let generation = Atomic<Int>(0)
    private let sweeper = DispatchQueue(label: "sqlite-store.readers")

    init(path: String, configuration: Configuration, capacity: Int, cacheBytes: Int) {
        self.path = path
        var configuration = configuration
        configuration.readonly = true
        // The read transaction outlives each access on purpose (see above).
        configuration.allowsUnsafeTransactions = true
        // Each thread's connection keeps its own page cache (`cacheBytes`, larger than
        // SQLite's default). A page missing from it is a pread of the file, and reads at
        // random over a collection the cache cannot hold mostly miss: a cache that holds
        // the table turns them into no system call (figures: bench/NOTES.md#readers).
        // Start-up memory is unchanged: the cache fills as pages are read, up to the size.
        let cacheKiB = max(1, cacheBytes / 1024)
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA cache_size = -\(cacheKiB)") }
        self.configuration = configuration
        self.capacity = capacity
        scheduleSweep()
    }

    private func scheduleSweep() {
        sweeper.asyncAfter(deadline: .now() + 1) { [weak self] in
            guard let self else { return }
            endStaleSnapshots()
            scheduleSweep()
        }
    }

    /// Something was committed: snapshots taken before now are stale.
    func invalidate() {
        generation.add(1, ordering: .releasing)
        lastCommit.store(DispatchTime.now().uptimeNanoseconds, ordering: .relaxed)
    }

    /// Runs `body` in this thread's read transaction, renewed first if the store has
    /// committed since it began. Nil past `capacity` threads.
    func read<T>(_ body: (Database) throws -> T) throws -> T? {
        try withSnapshot { db, _ in try body(db) }
    }

    /// The same, with the change log's head in the snapshot, read once per snapshot (a
    /// document read then needs one statement, not two), and the connection's prepared
    /// document statements. The body's statements stop once `budget` has passed.
    func read<T>(
        head: (Database) throws -> Int64, within budget: Duration? = nil, _ body: (Database, Int64, HotStatements) throws -> T
    ) throws -> T? {
        try withSnapshot { db, reader in
            let known: Int64
            if let cached = reader[db].head {
                known = cached
            } else {
                known = try head(db)
                reader[db].head = known
            }
            return try reader.deadline.within(budget) { try body(db, known, reader.statements) }
        }
    }

    private func withSnapshot<T>(_ body: (Database, Reader) throws -> T) throws -> T? {
        guard let reader = reader() else { return nil }
        return try reader.queue.inDatabase { db in
            let result = try snapshotRead(body, db, reader)
            if letGo.load(ordering: .relaxed), db.isInsideTransaction, writing { try db.commit() }
            return result
        }
    }

    /// Set while the WAL is long: each read then ends its transaction. A snapshot held
    /// from one request to the next keeps a read lock on the WAL, and the writer can
    /// start the WAL over only when no reader holds one: under steady reads some thread
    /// always did, and the WAL grew past 250 MB (bench/NOTES.md#checkpoints).
    private let letGo = Atomic<Bool>(false)

    /// When the store last committed (uptime, ns): reads let go only while writes go
    /// on. Writes that stop with the WAL long leave it long until the next one, and each
    /// read would pay for a transaction of its own meanwhile; the next commit renews
    /// every snapshot anyway.
    private let lastCommit = Atomic<UInt64>(0)

    private var writing: Bool {
        DispatchTime.now().uptimeNanoseconds &- lastCommit.load(ordering: .relaxed) < 100_000_000
    }

    func letGoAfterEachRead(_ on: Bool) {
        letGo.store(on, ordering: .relaxed)
        if on { endStaleSnapshotsSoon() }
    }

    private func snapshotRead<T>(_ body: (Database, Reader) throws -> T, _ db: Database, _ reader: Reader) throws -> T {
        let current = generation.load(ordering: .acquiring)
        if db.isInsideTransaction {
            let snapshot = reader[db]
            if snapshot.generation == current, ContinuousClock.now - snapshot.begun < Self.maxAge {
                return try Self.run(body, db, reader)
            }
            try db.commit()
        }
        // Deferred: the snapshot is taken by the first statement, after `current`
        // was read, so it is at least that new.
        try db.beginTransaction(.deferred)
        reader[db] = Reader.Snapshot(generation: current, begun: .now, head: nil)
        return try Self.run(body, db, reader)
    }

    private static func run<T>(_ body: (Database, Reader) throws -> T, _ db: Database, _ reader: Reader) throws -> T {
        do {
            return try body(db, reader)
        } catch {
            // Start from a clean connection after any failure.
            if db.isInsideTransaction { try? db.rollback() }
            reader[db].head = nil
            throw error
        }
    }

    /// A checkpoint found the WAL pinned by a snapshot: sweep now, not at the next tick
    /// (under a burst of writes a second of pinning is tens of megabytes of WAL).
    func endStaleSnapshotsSoon() {
        sweeper.async { [weak self] in self?.endStaleSnapshots() }
    }

    /// An idle thread's old snapshot would keep the WAL from being checkpointed and
    /// reset: end the ones the store has moved past, and any older than `maxAge`.
    private func endStaleSnapshots() {
        let all = readers.withLock { Array($0.values) }
        let current = generation.load(ordering: .acquiring)
        for reader in all {
            try? reader.queue.inDatabase { db in
                let snapshot = reader[db]
                if db.isInsideTransaction, snapshot.generation != current || ContinuousClock.now - snapshot.begun >= Self.maxAge {
                    try db.commit()
                }
            }
        }
    }

    /// Commits of this process renew snapshots at once; a snapshot is also renewed
    /// after this long, so that a write by another process on the same file (the
    /// sqlite3 shell, say: one server per file is the supported way) shows within it.
    static let maxAge = Duration.seconds(1)

    /// This thread's connection, opened on first use; nil past `capacity` threads.
    private func reader() -> Reader? {
        let thread = UInt(pthread_self())
        if let reader = readers.withLock({ $0[thread] }) { return reader }
        guard readers.withLock({ $0.count }) < capacity,
            let queue = try? DatabaseQueue(path: path, configuration: configuration)
        else { return nil }
        return readers.withLock { readers in
            if readers.count >= capacity { return nil }
            let reader = Reader(queue: queue)
            readers[thread] = reader
            return reader
        }
    }
}
