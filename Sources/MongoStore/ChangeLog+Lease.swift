import DocumentStore

/// Settling what a writer left behind. A writer that dies (or loses its connection)
/// between claiming a sequence and settling it would stop every reader at its entry
/// forever; after the lease, the first reader to reach it settles it instead.
///
/// - A missing number (claimed, never inserted): the reader inserts a `void` entry
///   under it. If the writer was only slow, its own insert is now a duplicate key and
///   it claims another number: nothing can appear behind a reader.
/// - A `pending` entry: the reader looks at the document. A create committed if the
///   document exists with this creation sequence; an update if the document of the
///   same creation is at or past the entry's version; a delete if the document is
///   gone (or was created again). Committed → `done`, else `void`. A writer that was
///   only slow and commits after this finds its entry no longer pending and logs its
///   change again under a new sequence, so the change is not lost to streams (it
///   arrives later than its sequence would have put it).
extension ChangeLog {
    /// Settles the missing `sequence` when the entry after it is older than the lease.
    func settleMissing(_ sequence: Int64, next: JSONObject) throws(MongoError) -> Bool {
        guard expired(next) else { return false }
        let entry = BSONDocument(
            JSONObject([
                ("_id", .int(sequence)), ("s", .string(State.void.rawValue)), ("at", .int(Self.now())),
            ]))
        do {
            _ = try pool.insert(Self.collection, entry)
            leaseResolutions.add(1, ordering: .relaxed)
        } catch  where error.kind == .duplicateKey {
            // Its writer inserted it meanwhile.
        }
        return true
    }

    /// Settles a pending entry older than the lease.
    func settleAbandoned(_ entry: JSONObject) throws(MongoError) -> Bool {
        guard expired(entry), let sequence = Self.sequence(entry),
            let collection = entry["c"]?.stringValue, let id = entry["i"]?.stringValue,
            let operation = entry["op"]?.stringValue.flatMap(Change.Operation.init(rawValue:))
        else { return false }
        let version = Self.integer(entry["v"])
        let creation = Self.integer(entry["k"])
        let found = try pool.find(
            collection, filter: MongoDocument.idFilter(id),
            projection: BSONDocument(JSONObject([(MongoDocument.creationField, .int(1)), ("_v", .int(1))])), limit: 1
        ).first
        let committed: Bool
        switch operation {
        case .create:
            committed = found.map { Self.integer($0[MongoDocument.creationField]) == sequence } ?? false
        case .update:
            committed =
                found.map { Self.integer($0[MongoDocument.creationField]) == creation && Self.integer($0["_v"]) >= version } ?? false
        case .delete:
            committed = found.map { Self.integer($0[MongoDocument.creationField]) != creation } ?? true
        }
        if try settle(sequence, as: committed ? .done : .void) {
            leaseResolutions.add(1, ordering: .relaxed)
        }
        return true
    }

    private func expired(_ entry: JSONObject) -> Bool {
        Self.now() - Self.integer(entry["at"]) > leaseMilliseconds
    }

    static func integer(_ value: JSON?) -> Int64 {
        switch value {
        case .int(let i)?: return i
        case .double(let d)?: return Int64(d)
        default: return 0
        }
    }
}
