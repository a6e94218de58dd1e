import DocumentStore

/// What `prepare` makes in the database — the epoch, the indexes of `indexes` and
/// `unique` — and making it again after the server was away (a server restarted
/// empty, like the test double, has lost it).
extension MongoStore {
    public func prepare(_ collections: [CollectionLayout]) throws(StoreError) {
        layouts.withLock { table in
            for layout in collections { table[layout.name] = layout }
        }
        do {
            let epoch = try ensureEpoch(proposed: Self.newEpoch()).value
            epochValue.withLock { $0 = epoch }
            for layout in collections { try createIndexes(layout) }
            try createLogIndexes()
            // Where the log's readers and this process's claims start.
            log.raiseSettled(to: try log.storedWatermark())
            let head = try log.head()
            let top = try log.maxSequence()
            order.withLock { $0 = CommitOrder(delivered: head, allocated: top) }
        } catch {
            throw noted(error)
        }
    }

    /// After an outage: the epoch and the indexes again. An epoch that is gone means the
    /// database was wiped (or replaced) under a running server: the old epoch is put
    /// back, since streams already opened carry it, and new sequences continue past
    /// the old ones, so no cursor handed out before can match a different change.
    func recover() throws(MongoError) {
        let cached = epoch
        let outcome = try ensureEpoch(proposed: cached.isEmpty ? Self.newEpoch() : cached)
        if outcome.created && !cached.isEmpty {
            logger.warning(
                "MongoDB lost this store's data while it was away (a new or wiped database): continuing the epoch",
                metadata: ["store.epoch": "\(cached)", "store.sequence": "\(order.withLock { $0.allocated })"])
            let top = order.withLock { state -> Int64 in
                state = CommitOrder(delivered: state.allocated, allocated: state.allocated)
                return state.allocated
            }
            try log.storeWatermark(top)
            log.raiseSettled(to: top)
        }
        for layout in layouts.withLock({ Array($0.values) }) { try createIndexes(layout) }
        try createLogIndexes()
        needsRecovery.store(false, ordering: .relaxed)
        logger.notice("MongoDB is reachable again")
    }

    /// `_meta {_id: "epoch", value}`: read, or made with `proposed`.
    func ensureEpoch(proposed: String) throws(MongoError) -> (value: String, created: Bool) {
        let command = BSONDocument()
        command.append("findAndModify", .string(ChangeLog.metaCollection))
        command.append("query", .object(JSONObject([("_id", .string("epoch"))])))
        command.append("update", .object(JSONObject([("$setOnInsert", .object(JSONObject([("value", .string(proposed))])))])))
        command.append("upsert", .bool(true))
        command.append("new", .bool(true))
        let reply = try pool.command(command).json
        guard let value = reply["value"]?.objectValue?["value"]?.stringValue else {
            throw MongoError(.failed, "no epoch in the findAndModify reply")
        }
        let existed = reply["lastErrorObject"]?.objectValue?["updatedExisting"] == .bool(true)
        return (value, !existed)
    }

    static func newEpoch() -> String {
        String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
    }

    /// `ix_<path>` for `indexes`, `ux_<path>` (unique, over documents that have the
    /// field, as SQLite's unique index ignores NULLs) for `unique`, `_c` for creation
    /// order. Indexes of those names the config no longer asks for are dropped.
    private func createIndexes(_ layout: CollectionLayout) throws(MongoError) {
        var specs: [BSONDocument] = [Self.indexSpec(name: "creation", key: MongoDocument.creationField)]
        for path in layout.indexes where path.components != ["id"] {
            specs.append(Self.indexSpec(name: "ix_\(path)", key: MongoQuery.field(path)))
        }
        for path in layout.unique where path.components != ["id"] {
            let spec = Self.indexSpec(name: "ux_\(path)", key: MongoQuery.field(path))
            spec.append("unique", .bool(true))
            spec.append(
                "partialFilterExpression", .object(JSONObject([(MongoQuery.field(path), .object(JSONObject([("$exists", .bool(true))])))])))
            specs.append(spec)
        }
        let wanted = Set(specs.compactMap { $0.json["name"]?.stringValue })
        let listed = BSONDocument(JSONObject([("listIndexes", .string(layout.name))]))
        let existing = (try? pool.command(listed).json["cursor"]?.objectValue?["firstBatch"]?.arrayValue) ?? []
        for index in existing {
            guard let name = index.objectValue?["name"]?.stringValue, name.hasPrefix("ix_") || name.hasPrefix("ux_"),
                !wanted.contains(name)
            else { continue }
            _ = try pool.command(BSONDocument(JSONObject([("dropIndexes", .string(layout.name)), ("index", .string(name))])))
        }
        let command = BSONDocument()
        command.append("createIndexes", .string(layout.name))
        command.append("indexes", array: specs)
        _ = try pool.command(command)
    }

    private func createLogIndexes() throws(MongoError) {
        let command = BSONDocument()
        command.append("createIndexes", .string(ChangeLog.collection))
        command.append("indexes", array: [Self.indexSpec(name: "at", key: "at")])
        _ = try pool.command(command)
    }

    private static func indexSpec(name: String, key: String) -> BSONDocument {
        BSONDocument(JSONObject([("key", .object(JSONObject([(key, .int(1))]))), ("name", .string(name))]))
    }
}
