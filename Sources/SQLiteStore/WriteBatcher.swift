import DocumentStore
import Dispatch
import Foundation
import GRDB
import Logging
import Synchronization

/// Group commit: writes that arrive while a commit is running wait for the next one,
/// and each commit carries all of them in one transaction. Under concurrent writers
/// this turns one fsync per request (synchronous=FULL) into one per batch. A refused
/// write fails before it changes anything, so it does not undo its neighbours.
final class WriteBatcher: Sendable {
    typealias Completion = @Sendable (Result<WriteResult, StoreError>) -> Void

    struct Pending {
        let request: WriteRequest
        let completion: Completion
    }

    private struct Queue {
        var pending: [Pending] = []
        var draining = false
        /// When the writer last went idle: a write that finds it idle for a while is a
        /// lone write, not one of a stream of concurrent ones.
        var idleSince = ContinuousClock.now
    }

    /// A write that finds the writer idle for longer than this commits on its own
    /// thread. Under concurrent writers the writer is rarely idle that long and commits
    /// several writes at once, so their writes keep going to the batch (committing
    /// inline there cost throughput: see bench/NOTES.md#group-commit).
    ///
    /// Not also after a commit of one write: that let a lone write's inline commit
    /// beget the next one under concurrent writers (their server thread, busy
    /// committing, reads no other request meanwhile, so nothing joins the batch), and
    /// POSTs at 16 clients fell from 20,000/s to 900-6,700/s, every commit one write
    /// (bench/NOTES.md#lone-writes).
    static let loneWriteGap = Duration.milliseconds(2)

    /// At most this many writes share one transaction.
    static let maxBatch = 512

    private let pool: DatabasePool
    private let epoch: String
    private let changeLog: ChangeLogTables
    private let logger: Logger
    private let queue = Mutex(Queue())
    private let writer = DispatchQueue(label: "sqlite-store.writer")
    let listener = CommitListener()
    /// Runs after each commit, before anyone hears of it, with the commit's changes
    /// (readers renew their snapshot, the document cache forgets what changed).
    private let committed: @Sendable ([Change]) -> Void
    /// A lone write is committed on the caller's thread (only when commits do not fsync:
    /// a server thread must not wait for the disk).
    private let commitsInlineWhenIdle: Bool
    /// A commit that held its writes back this long is logged as a warning, with where
    /// the time went: waiting for the writer connection (a prune, an import) or inside
    /// the transaction (its statements, and the disk when SQLite syncs: `full`, a
    /// checkpoint, the WAL starting over). Every write of the batch waited that long.
    private let slowCommit: Duration

    init(
        pool: DatabasePool, epoch: String, changeLog: ChangeLogTables, logger: Logger, commitsInlineWhenIdle: Bool,
        slowCommit: Duration, committed: @escaping @Sendable ([Change]) -> Void
    ) {
        self.pool = pool
        self.epoch = epoch
        self.changeLog = changeLog
        self.logger = logger
        self.commitsInlineWhenIdle = commitsInlineWhenIdle
        self.slowCommit = slowCommit
        self.committed = committed
    }

    private enum Admission {
        case queued, startDrain, inline
    }

    func submit(_ request: WriteRequest, completion: @escaping Completion) {
        let pending = Pending(request: request, completion: completion)
        let admission = queue.withLock { q -> Admission in
            if q.draining {
                q.pending.append(pending)
                return .queued
            }
            q.draining = true
            if commitsInlineWhenIdle, ContinuousClock.now - q.idleSince > Self.loneWriteGap {
                return .inline
            }
            q.pending.append(pending)
            return .startDrain
        }
        switch admission {
        case .queued:
            return
        case .startDrain:
            writer.async { self.drain() }
        case .inline:
            // The writer is idle, and a commit costs no fsync: commit on the caller's
            // thread. The completion then runs before `submit` returns, so the server
            // answers before its handler returns, without suspending and resuming the
            // connection (libmicrohttpd 0.9.75 walks every suspended connection, i.e.
            // every open event stream, on each resume) and without a thread hop.
            commit([pending])
            let more = queue.withLock { q -> Bool in
                if q.pending.isEmpty {
                    q.draining = false
                    q.idleSince = .now
                }
                return !q.pending.isEmpty
            }
            if more { writer.async { self.drain() } }  // writes that came in meanwhile
        }
    }

    private func drain() {
        while true {
            let batch = queue.withLock { q -> [Pending] in
                let n = min(q.pending.count, Self.maxBatch)
                let batch = Array(q.pending.prefix(n))
                q.pending.removeFirst(n)
                if batch.isEmpty {
                    q.draining = false
                    q.idleSince = .now
                }
                return batch
            }
            if batch.isEmpty { return }
            commit(batch)
        }
    }

    /// The writer connection's statements (GRDB's pool has one writer connection).
    private let statements = HotStatements()

    /// Commits made and the writes they carried out (refused ones not counted):
    /// writes / commits is the mean batch.
    let commits = Atomic<Int>(0)
    let writes = Atomic<Int>(0)

    private func commit(_ batch: [Pending]) {
        var results: [Result<WriteResult, StoreError>] = []
        results.reserveCapacity(batch.count)
        let asked = ContinuousClock.now
        var entered = asked
        do {
            try pool.writeWithoutTransaction { db in
                entered = .now
                try statements.inImmediateTransaction(db) {
                    let now = Int64(Date().timeIntervalSince1970 * 1000)
                    // No savepoint per write: a refused write fails before it writes
                    // anything (`decide` refuses first), or in its one document statement,
                    // which SQLite undoes by itself (ABORT leaves the transaction open).
                    // The change-log insert cannot break a constraint; any other error
                    // fails the whole batch.
                    for item in batch {
                        let outcome: Result<WriteResult, StoreError>
                        do {
                            outcome = .success(try apply(item.request, at: now, in: db))
                        } catch let error as DatabaseError where error.resultCode == .SQLITE_CONSTRAINT && db.isInsideTransaction {
                            // An unexpected constraint is an internal error whose message
                            // the service logs with the request it failed. (One that ended
                            // the transaction fails the batch: the writes after it would
                            // each commit on their own.)
                            outcome = .failure(Self.constraintError(error))
                        } catch let error as StoreError {
                            outcome = .failure(error)
                        } catch {
                            throw error  // not this write's fault: fail the batch
                        }
                        results.append(outcome)
                    }
                    if results.contains(where: { (try? $0.get()) != nil }) { try changeLog.finish(in: db) }
                }
            }
        } catch {
            changeLog.forget()
            let failure = SQLiteStore.map(error)
            logger.error("commit failed", metadata: ["store.batch": "\(batch.count)", "error": "\(error)"])
            for item in batch { item.completion(.failure(failure)) }
            return
        }
        let done = ContinuousClock.now
        if done - asked >= slowCommit { logSlowCommit(waited: entered - asked, ran: done - entered, writes: batch.count) }
        // Durable now: make it visible to readers, answer every write of the batch, then
        // tell the stream hub. Answers first, so that a write's own response is on its
        // way before the fan-out to every subscriber competes with it; the hub does not
        // depend on the order (it reads back from the log any change it has not seen).
        let changes = results.compactMap { try? $0.get().change }
        committed(changes)
        commits.add(1, ordering: .relaxed)
        writes.add(changes.count, ordering: .relaxed)
        for (item, result) in zip(batch, results) { item.completion(result) }
        if !changes.isEmpty, let listener = listener.current { listener(changes) }
    }

    private func apply(_ request: WriteRequest, at now: Int64, in db: Database) throws -> WriteResult {
        let table = SQLiteStore.table(request.collection)
        let current = request.idIsNew ? nil : try statements.read(table, id: request.id, in: db)
        let operation: Change.Operation
        let version: Int64
        let stored: StoredDocument?
        switch request.decide(current) {
        case .insert(let document, let v):
            guard current == nil else { throw StoreError.duplicateID }
            let json = JSON.object(document).serialized
            try statements.execute(.insert, table, [.text(request.id), .integer(v), .text(json)], in: db)
            (operation, version, stored) = (.create, v, StoredDocument(id: request.id, version: v, json: json))
        case .update(let document, let v):
            guard current != nil else { throw StoreError.internalError("update of a missing document") }
            let json = JSON.object(document).serialized
            try statements.execute(.update, table, [.integer(v), .text(json), .text(request.id)], in: db)
            (operation, version, stored) = (.update, v, StoredDocument(id: request.id, version: v, json: json))
        case .delete(let v):
            guard current != nil else { throw StoreError.internalError("delete of a missing document") }
            try statements.execute(.delete, table, [.text(request.id)], in: db)
            (operation, version, stored) = (.delete, v, nil)
        case .refuse:
            throw StoreError.refused
        }
        let (sequence, logTable) = try changeLog.next(in: db)
        try statements.execute(
            .logChange, logTable,
            [
                .integer(sequence), .text(request.collection), .text(request.id), .text(operation.rawValue), .integer(version),
                .init(stored?.json), .init(current?.json), .init(request.origin), .integer(now),
            ], in: db)
        let change = Change(
            sequence: sequence, collection: request.collection, id: request.id, operation: operation,
            version: version, document: stored?.json, previous: current?.json, origin: request.origin, time: now)
        return WriteResult(document: stored, change: change, cursor: ChangeCursor(epoch: epoch, sequence: sequence))
    }

    private func logSlowCommit(waited: Duration, ran: Duration, writes: Int) {
        func milliseconds(_ d: Duration) -> String { "\(d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000)" }
        logger.warning(
            "slow commit: writes waited on the store's writer",
            metadata: [
                "store.batch": "\(writes)", "store.writer_wait_ms": "\(milliseconds(waited))",
                "store.transaction_ms": "\(milliseconds(ran))",
            ])
    }

    /// A unique index names its field (`UniqueIndexName`).
    static func constraintError(_ error: DatabaseError) -> StoreError {
        let message = error.message ?? ""
        if let field = UniqueIndexName.field(in: message) { return .uniqueViolation(field: field) }
        if message.contains(".id") { return .duplicateID }
        return .internalError(message)
    }
}
