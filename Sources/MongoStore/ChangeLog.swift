import DocumentStore
import Foundation
import Synchronization

/// The change log in MongoDB: one collection, one entry per sequence number.
///
/// A writer claims the next sequence by inserting its entry, `pending`, before it
/// writes the document (`_id` is the sequence, so a number taken twice is a duplicate
/// key and the loser claims again); after the document write it marks the entry
/// `done`, or `void` when the write was refused. Readers walk the log in sequence order
/// from the last position they know to be settled and stop at the first entry still
/// `pending`, or at a missing number (claimed, not inserted yet): the position they
/// report (`head`) never passes a change that may still commit, so a stream resumed
/// from it misses nothing. An entry left `pending` longer than the lease (its writer
/// died), or a number missing for that long, is settled by the reader: see
/// `ChangeLog+Lease.swift`.
///
/// Entry: `{_id: seq, s: "pending"|"done"|"void", at: ms, c: collection, i: id,
/// op, v, k: creation sequence of the document, d: document JSON, p: previous JSON,
/// o: origin}`.
final class ChangeLog: Sendable {
    static let collection = "_changes"
    static let metaCollection = "_meta"

    enum State: String {
        case pending, done, void
    }

    let pool: MongoClientPool
    /// Milliseconds after which a pending entry, or a missing number, is settled by
    /// whoever reads past it.
    let leaseMilliseconds: Int64
    /// Every entry up to here is done or void (never goes back).
    let settled = Atomic<Int64>(0)
    /// Entries settled by a reader because their writer was gone (statistics).
    let leaseResolutions = Atomic<Int>(0)

    init(pool: MongoClientPool, leaseMilliseconds: Int64) {
        self.pool = pool
        self.leaseMilliseconds = leaseMilliseconds
    }

    static func now() -> Int64 { Int64(Date().timeIntervalSince1970 * 1000) }

    // MARK: Writers

    /// Inserts the entry of `change` under its sequence; a duplicate key means the
    /// number is taken.
    func insert(_ change: Change, creation: Int64, state: State) throws(MongoError) {
        let entry = BSONDocument()
        entry.append("_id", .int(change.sequence))
        entry.append("s", .string(state.rawValue))
        entry.append("at", .int(change.time))
        entry.append("c", .string(change.collection))
        entry.append("i", .string(change.id))
        entry.append("op", .string(change.operation.rawValue))
        entry.append("v", .int(change.version))
        entry.append("k", .int(creation))
        if let document = change.document { entry.append("d", .string(document)) }
        if let previous = change.previous { entry.append("p", .string(previous)) }
        if let origin = change.origin { entry.append("o", .string(origin)) }
        _ = try pool.insert(Self.collection, entry)
    }

    /// `pending` → `state`; false when the entry was no longer pending (a reader
    /// settled it after the lease).
    func settle(_ sequence: Int64, as state: State) throws(MongoError) -> Bool {
        let filter = BSONDocument(JSONObject([("_id", .int(sequence)), ("s", .string(State.pending.rawValue))]))
        let update = BSONDocument(JSONObject([("$set", .object(JSONObject([("s", .string(state.rawValue))])))]))
        return try pool.update(Self.collection, filter: filter, update: update).n == 1
    }

    /// The state of one entry; nil when there is none.
    func state(of sequence: Int64) throws(MongoError) -> State? {
        let entry = try pool.find(
            Self.collection, filter: BSONDocument(JSONObject([("_id", .int(sequence))])),
            projection: BSONDocument(JSONObject([("s", .int(1))])), limit: 1
        ).first
        return entry?["s"]?.stringValue.flatMap(State.init(rawValue:))
    }

    /// The highest sequence in the log (0 when empty).
    func maxSequence() throws(MongoError) -> Int64 {
        let top = try pool.find(
            Self.collection, filter: BSONDocument(), sort: BSONDocument(JSONObject([("_id", .int(-1))])),
            projection: BSONDocument(JSONObject([("_id", .int(1))])), limit: 1)
        return Self.sequence(top.first) ?? 0
    }

    // MARK: Readers

    /// The newest position no change can still appear before: the walk from the
    /// settled position up to the first pending entry or missing number.
    func head() throws(MongoError) -> Int64 {
        var head = settled.load(ordering: .relaxed)
        let batch = 256
        walk: while true {
            let entries = try pool.find(
                Self.collection, filter: BSONDocument(JSONObject([("_id", .object(JSONObject([("$gt", .int(head))])))])),
                sort: BSONDocument(JSONObject([("_id", .int(1))])),
                projection: BSONDocument(JSONObject([("d", .int(0)), ("p", .int(0))])), limit: batch)
            for entry in entries {
                guard let sequence = Self.sequence(entry) else { continue }
                if sequence != head + 1 {
                    // A missing number: pruned (below the stored watermark), claimed and
                    // not inserted yet, or abandoned.
                    let watermark = try storedWatermark()
                    if watermark > head {
                        head = watermark
                        continue walk
                    }
                    if try settleMissing(head + 1, next: entry) { continue walk }
                    break walk
                }
                if entry["s"]?.stringValue == State.pending.rawValue {
                    if try settleAbandoned(entry) { continue walk }
                    break walk
                }
                head = sequence
            }
            if entries.count < batch { break }
        }
        return raiseSettled(to: head)
    }

    /// Done entries after `sequence`, up to `head` (settled), oldest first, at most `limit`.
    func done(after sequence: Int64, through head: Int64, limit: Int) throws(MongoError) -> [Change] {
        guard sequence < head, limit > 0 else { return [] }
        let filter = BSONDocument(
            JSONObject([
                ("_id", .object(JSONObject([("$gt", .int(sequence)), ("$lte", .int(head))]))),
                ("s", .string(State.done.rawValue)),
            ]))
        let entries = try pool.find(Self.collection, filter: filter, sort: BSONDocument(JSONObject([("_id", .int(1))])), limit: limit)
        return entries.compactMap(Self.change)
    }

    /// The lowest sequence still in the log.
    func oldest() throws(MongoError) -> Int64? {
        let first = try pool.find(
            Self.collection, filter: BSONDocument(), sort: BSONDocument(JSONObject([("_id", .int(1))])),
            projection: BSONDocument(JSONObject([("_id", .int(1))])), limit: 1)
        return Self.sequence(first.first)
    }

    /// Drops entries beyond the newest `keep` and those older than `maxAge` seconds,
    /// never past the settled head, and never the newest entry (it keeps the sequence
    /// going after a restart). The head is stored first as the watermark readers
    /// start from.
    func prune(keep: Int, maxAge: Int64) throws(MongoError) -> Int {
        let head = try head()
        try storeWatermark(head)
        let cutoff = Self.now() - maxAge * 1000
        let byCount = min(head - Int64(keep), head - 1)
        let filter = BSONDocument(
            JSONObject([
                (
                    "$or",
                    .array([
                        .object(JSONObject([("_id", .object(JSONObject([("$lte", .int(byCount))])))])),
                        .object(
                            JSONObject([
                                ("_id", .object(JSONObject([("$lt", .int(head))]))),
                                ("at", .object(JSONObject([("$lt", .int(cutoff))]))),
                            ])),
                    ])
                )
            ]))
        return try pool.delete(Self.collection, filter: filter, limit: 0).n
    }

    // MARK: The watermark

    /// The head stored at the last prune: entries up to it are settled (and may be
    /// pruned), so a reader that knows less starts there.
    func storedWatermark() throws(MongoError) -> Int64 {
        let meta = try pool.find(Self.metaCollection, filter: BSONDocument(JSONObject([("_id", .string("changes"))])), limit: 1)
        if case .int(let value)? = meta.first?["settled"] { return value }
        return 0
    }

    func storeWatermark(_ head: Int64) throws(MongoError) {
        let filter = BSONDocument(JSONObject([("_id", .string("changes"))]))
        let update = BSONDocument(JSONObject([("$max", .object(JSONObject([("settled", .int(head))])))]))
        _ = try pool.update(Self.metaCollection, filter: filter, update: update, upsert: true)
    }

    @discardableResult
    func raiseSettled(to head: Int64) -> Int64 {
        var current = settled.load(ordering: .relaxed)
        while head > current {
            let (exchanged, original) = settled.compareExchange(expected: current, desired: head, ordering: .relaxed)
            if exchanged { return head }
            current = original
        }
        return current
    }

    // MARK: Entries

    static func sequence(_ entry: JSONObject?) -> Int64? {
        if case .int(let value)? = entry?["_id"] { return value }
        return nil
    }

    static func change(_ entry: JSONObject) -> Change? {
        guard let sequence = sequence(entry), let collection = entry["c"]?.stringValue, let id = entry["i"]?.stringValue,
            let operation = entry["op"]?.stringValue.flatMap(Change.Operation.init(rawValue:)),
            case .int(let version)? = entry["v"]
        else { return nil }
        var time: Int64 = 0
        if case .int(let at)? = entry["at"] { time = at }
        return Change(
            sequence: sequence, collection: collection, id: id, operation: operation, version: version,
            document: entry["d"]?.stringValue, previous: entry["p"]?.stringValue, origin: entry["o"]?.stringValue, time: time)
    }
}
