/// What a backend must do for the service. Implementations: `SQLiteStore` (embedded)
/// and `MongoStore` (production). One conformance suite holds them to the same behaviour.
///
/// Reads are synchronous (they run on the server's own threads, never on Swift's
/// cooperative pool). Writes complete through a callback so that a backend can batch
/// concurrent writes into one commit without holding a thread per request.
public protocol DocumentStore: Sendable {
    /// A short name for logs and `/healthz`, e.g. `sqlite:data/app.sqlite`.
    var description: String { get }

    /// Creates what the collections need (tables, indexes, unique constraints).
    func prepare(_ collections: [CollectionLayout]) throws(StoreError)

    func get(_ collection: String, id: String) throws(StoreError) -> StoredDocument?

    /// A document with a change-log position taken no later than the read, so that a
    /// stream from that position misses nothing that happened after it.
    func read(_ collection: String, id: String) throws(StoreError) -> (document: StoredDocument?, cursor: ChangeCursor)

    /// A page of matching documents and the change-log position the page reflects.
    ///
    /// With a `budget`, a store that can stop a query midway throws `.overBudget` once
    /// answering has taken longer (at once for a zero budget), having changed nothing;
    /// nil: no limit. A store that cannot stop a query answers in full.
    func list(_ collection: String, query: ListQuery, within budget: Duration?) throws(StoreError) -> ListResult

    /// Runs `write.decide` on the current document and applies its decision atomically
    /// with a change-log entry; `completion` runs once the write is durable (or failed),
    /// on any thread, possibly before `write` returns.
    func write(_ write: WriteRequest, completion: @escaping @Sendable (Result<WriteResult, StoreError>) -> Void)

    /// The newest position of the change log.
    func head() throws(StoreError) -> ChangeCursor

    /// Logged changes with a sequence above `sequence`, oldest first, at most `limit`.
    func changes(after sequence: Int64, limit: Int) throws(StoreError) -> [Change]

    /// The oldest sequence still in the log and the newest ever written: a cursor can
    /// be resumed when every change after it is still there.
    func logBounds() throws(StoreError) -> LogBounds

    /// Drops log entries beyond the newest `keep`, and those older than `maxAge` seconds.
    func pruneLog(keep: Int, maxAge: Int64) throws(StoreError) -> Int

    /// Called after each commit made by this store object with its changes; batches in
    /// sequence order, one call at a time. A store that shares its log with other
    /// writers (other servers on one MongoDB database) passes over the sequences they
    /// took. The change log is the truth; this only saves a read: the stream hub hears
    /// of commits through a `ChangeFeed` (`StoreCommitFeed` over this, completed from
    /// the log by `LogPollingFeed` where other writers share it). One listener: a new
    /// one replaces the last.
    func onCommit(_ listener: @escaping @Sendable ([Change]) -> Void)

    /// Is the store reachable and working?
    func health() -> StoreHealth

    /// True when `head()` has moved past every acknowledged write (one writer, as in
    /// SQLite): whatever was read at a head is then still true while the head stays.
    /// False where an acknowledged write can sit behind one still in flight.
    var headCoversAcknowledgedWrites: Bool { get }

    /// The store's own counters, read when `/metrics` is scraped.
    func statistics() -> [StoreStatistic]
}

extension DocumentStore {
    public var headCoversAcknowledgedWrites: Bool { false }

    /// A page of matching documents, however long it takes.
    public func list(_ collection: String, query: ListQuery) throws(StoreError) -> ListResult {
        try list(collection, query: query, within: nil)
    }
}

/// What a collection asks of its store.
public struct CollectionLayout: Sendable, Equatable {
    public let name: String
    public let indexes: [FieldPath]
    public let unique: [FieldPath]
    /// Paths the schema says are never arrays: equality on them is a plain comparison,
    /// which lets an index serve it.
    public let scalarPaths: Set<FieldPath>
    /// Paths whose every stored value (when present) has this one type, as the schema
    /// guarantees: comparisons on them need no type check.
    public let fieldTypes: [FieldPath: FieldType]

    public enum FieldType: Sendable, Equatable {
        case boolean, number, string
    }

    public init(
        name: String, indexes: [FieldPath], unique: [FieldPath], scalarPaths: Set<FieldPath>,
        fieldTypes: [FieldPath: FieldType] = [:]
    ) {
        self.name = name
        self.indexes = indexes
        self.unique = unique
        self.scalarPaths = scalarPaths
        self.fieldTypes = fieldTypes
    }
}

/// A counter a store keeps (it counts where it works); the service reports it.
public struct StoreStatistic: Sendable, Equatable {
    /// A short snake_case name, e.g. `commits`, unique per store.
    public let name: String
    public let help: String
    /// Only grows while the store is open.
    public let value: Int

    public init(_ name: String, help: String, value: Int) {
        self.name = name
        self.help = help
        self.value = value
    }
}

public struct StoreHealth: Sendable {
    public let ok: Bool
    public let detail: String

    public init(ok: Bool, detail: String) {
        self.ok = ok
        self.detail = detail
    }
}

public struct LogBounds: Sendable, Equatable {
    /// The oldest retained sequence; nil when the log is empty.
    public let oldest: Int64?
    /// The newest sequence ever written (0 before the first write).
    public let newest: Int64

    public init(oldest: Int64?, newest: Int64) {
        self.oldest = oldest
        self.newest = newest
    }

    /// Is every change after `sequence` still in the log?
    public func canResume(after sequence: Int64) -> Bool {
        guard sequence <= newest, sequence >= 0 else { return false }
        guard let oldest else { return sequence == newest }
        return sequence >= oldest - 1
    }
}
