import DocumentStore
import Dispatch
import Foundation
import Logging
import Synchronization

/// The production store: MongoDB through libmongoc. Documents are `{_id, _c, …, _v}`
/// (see `MongoDocument`), one MongoDB collection per BackboneSSE collection; the change
/// log is the `_changes` collection (see `ChangeLog`), the epoch and the log's
/// watermark live in `_meta`, so every instance sharing the database shares one
/// sequence and one epoch and a cursor from one resumes on another.
///
/// Reads run on the caller's thread (the HTTP server's own); writes run on the store's
/// writer threads. Writes are atomic on `_v` through conditional updates and deletes;
/// a lost race reruns `decide` on the new current document.
public final class MongoStore: DocumentStore {
    public struct Options: Sendable {
        /// Writer threads (each holds one pooled connection while it writes).
        public var writers: Int
        /// Seconds after which a change-log entry left pending by a writer that is gone
        /// is settled by a reader.
        public var leaseSeconds: Double

        public init(writers: Int = 8, leaseSeconds: Double = 30) {
            self.writers = writers
            self.leaseSeconds = leaseSeconds
        }
    }

    let pool: MongoClientPool
    let log: ChangeLog
    let logger: Logger
    let connectionString: String
    let workers: BlockingWorkers
    let layouts = Mutex<[String: CollectionLayout]>([:])
    let epochValue = Mutex<String>("")
    let order = Mutex(CommitOrder(delivered: 0, allocated: 0))
    let listener = CommitListener()
    /// Hands changes to the listener one batch after the other, in sequence order.
    let notifier = DispatchQueue(label: "mongo-store.notify")
    /// Retries marking a committed change done.
    let retrier = DispatchQueue(label: "mongo-store.retry")
    /// Set when a command found the server away: the next one first makes sure the
    /// database still has what `prepare` made (a wiped or replaced server has not).
    let needsRecovery = Atomic<Bool>(false)
    let counters = Counters()

    final class Counters: Sendable {
        let writes = Atomic<Int>(0)
        let conflicts = Atomic<Int>(0)
        let relogged = Atomic<Int>(0)
        let unavailable = Atomic<Int>(0)
    }

    /// `mongodb://host:port/database`, any connection string libmongoc takes.
    public init(connectionString: String, options: Options = Options(), logger: Logger) throws(StoreError) {
        do {
            pool = try MongoClientPool(connectionString)
        } catch {
            throw StoreError.unavailable("\(error.message)")
        }
        self.connectionString = connectionString
        self.logger = logger
        log = ChangeLog(pool: pool, leaseMilliseconds: Int64(options.leaseSeconds * 1000))
        workers = BlockingWorkers(count: max(1, options.writers), name: "mongo-store.writer")
    }

    public var description: String {
        // No credentials in logs: neither the user's password nor the options of the
        // query string (`tlsCertificateKeyFilePassword`, …).
        let withoutQuery = connectionString.prefix { $0 != "?" }
        guard let at = withoutQuery.range(of: "@") else { return String(withoutQuery) }
        return "mongodb://…" + withoutQuery[at.lowerBound...]
    }

    var epoch: String { epochValue.withLock { $0 } }

    // MARK: Reads

    public func get(_ collection: String, id: String) throws(StoreError) -> StoredDocument? {
        try check(collection)
        return try run { () throws(MongoError) in
            try pool.find(collection, filter: MongoDocument.idFilter(id), limit: 1).first.flatMap(MongoDocument.stored)?.document
        }
    }

    public func read(_ collection: String, id: String) throws(StoreError) -> (document: StoredDocument?, cursor: ChangeCursor) {
        try check(collection)
        return try run { () throws(MongoError) in
            // The head first: the document read after it reflects at least that much.
            let head = try log.head()
            let found = try pool.find(collection, filter: MongoDocument.idFilter(id), limit: 1).first
            return (found.flatMap(MongoDocument.stored)?.document, ChangeCursor(epoch: epoch, sequence: head))
        }
    }

    /// The budget goes to the server as `maxTimeMS` on the list's `find` and `count`,
    /// each given what is left of it: the server stops a read that runs past it (the
    /// time on the network counts, but libmongoc's calls cannot be cut short).
    public func list(_ collection: String, query: ListQuery, within budget: Duration?) throws(StoreError) -> ListResult {
        try check(collection)
        if budget == .zero { throw .overBudget }
        let deadline = budget.map { ContinuousClock.now + $0 }
        func left() throws(MongoError) -> Duration? {
            guard let deadline else { return nil }
            let left = deadline - .now
            guard left > .zero else { throw MongoError(.overBudget, "the list's budget was spent") }
            return left
        }
        return try run { () throws(MongoError) in
            let head = try log.head()
            let scalar = layouts.withLock { $0[collection]?.scalarPaths } ?? []
            let filter = MongoQuery.filter(query.filter, scalar: scalar)
            let found = try pool.find(
                collection, filter: filter, sort: MongoQuery.sort(query.sort), skip: query.skip, limit: query.limit + 1,
                maxTime: try left())
            var documents = found.compactMap { MongoDocument.stored($0)?.document }
            var total: Int?
            if documents.count > query.limit || query.skip > 0 {
                documents.removeLast(max(0, documents.count - query.limit))
                total = try count(collection, filter, maxTime: try left())
            }
            return ListResult(documents: documents, total: total, cursor: ChangeCursor(epoch: epoch, sequence: head))
        }
    }

    private func count(_ collection: String, _ filter: BSONDocument, maxTime: Duration?) throws(MongoError) -> Int {
        let command = BSONDocument()
        command.append("count", .string(collection))
        command.append("query", document: filter)
        if let maxTime { command.append("maxTimeMS", .int(MongoClientPool.maxTimeMS(maxTime))) }
        return Int(try pool.command(command).json["n"]?.numberValue ?? 0)
    }

    public func head() throws(StoreError) -> ChangeCursor {
        try run { () throws(MongoError) in ChangeCursor(epoch: epoch, sequence: try log.head()) }
    }

    public func changes(after sequence: Int64, limit: Int) throws(StoreError) -> [Change] {
        try run { () throws(MongoError) in
            try log.done(after: sequence, through: try log.head(), limit: limit)
        }
    }

    public func logBounds() throws(StoreError) -> LogBounds {
        try run { () throws(MongoError) in
            let newest = try log.head()
            // Every number past the settled head is still to come (claimed by a writer
            // not done yet, or to be settled void): the oldest entry present may be above
            // it only because the next number's entry is not written yet, and a stream
            // can still resume from the head itself.
            return LogBounds(oldest: try log.oldest().map { min($0, newest + 1) }, newest: newest)
        }
    }

    public func pruneLog(keep: Int, maxAge: Int64) throws(StoreError) -> Int {
        try run { () throws(MongoError) in try log.prune(keep: keep, maxAge: maxAge) }
    }

    /// This process's commits, in sequence order, passing over the sequences other
    /// servers took (`LogPollingFeed` reads those from the log).
    public func onCommit(_ listener: @escaping @Sendable ([Change]) -> Void) {
        self.listener.set(listener)
    }

    public func health() -> StoreHealth {
        do {
            try run { () throws(MongoError) in
                _ = try pool.command(BSONDocument(JSONObject([("ping", .int(1))])))
            }
            return StoreHealth(ok: true, detail: description)
        } catch {
            return StoreHealth(ok: false, detail: "\(error)")
        }
    }

    /// The commands counted one by one in `statistics`, as the benchmark reports them.
    static let countedCommands = ["find", "getMore", "insert", "update", "delete", "count"]

    public func statistics() -> [StoreStatistic] {
        let byName = pool.commandsByName.withLock { $0 }
        let perCommand = Self.countedCommands.map { name in
            StoreStatistic("command_\(name.lowercased())", help: "MongoDB \(name) commands sent", value: byName[name] ?? 0)
        }
        return perCommand + [
            StoreStatistic("commands", help: "MongoDB commands sent (round trips)", value: pool.commandsSent.load(ordering: .relaxed)),
            StoreStatistic("writes", help: "Writes committed", value: counters.writes.load(ordering: .relaxed)),
            StoreStatistic(
                "write_conflicts", help: "Conditional writes that lost a race and were decided again",
                value: counters.conflicts.load(ordering: .relaxed)),
            StoreStatistic(
                "unavailable", help: "Operations that found MongoDB unreachable", value: counters.unavailable.load(ordering: .relaxed)),
            StoreStatistic(
                "lease_resolutions", help: "Change-log entries settled by a reader after their writer's lease",
                value: log.leaseResolutions.load(ordering: .relaxed)),
            StoreStatistic(
                "relogged", help: "Changes logged again after a reader had voided their entry",
                value: counters.relogged.load(ordering: .relaxed)),
        ]
    }

    // MARK: Running commands

    func check(_ collection: String) throws(StoreError) {
        guard layouts.withLock({ $0[collection] != nil }) else { throw .unknownCollection(collection) }
    }

    /// Runs driver calls, after recovery when the server was away; maps errors.
    func run<T>(_ body: () throws(MongoError) -> T) throws(StoreError) -> T {
        do {
            if needsRecovery.load(ordering: .relaxed) { try recover() }
            return try body()
        } catch {
            throw noted(error)
        }
    }

    /// The store error for a driver error; a server that is away is remembered.
    func noted(_ error: MongoError) -> StoreError {
        if error.kind == .unavailable {
            counters.unavailable.add(1, ordering: .relaxed)
            needsRecovery.store(true, ordering: .relaxed)
        }
        return error.storeError
    }
}
