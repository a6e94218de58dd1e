import DocumentStore

/// Export, import and a new epoch (see `BulkTransfer`). MongoDB has no transaction of
/// an import's size: inserted documents are deleted again when the import fails.
/// Imported documents take creation sequences (`_c`) of their own, above every
/// sequence the log has handed out; a `void` entry at the top of that range makes the
/// log continue after it, so documents created later list after the imported ones.
extension MongoStore: BulkTransfer {
    static let transferBatch = 1000

    /// The epoch (made when the database has none) and where the log's readers start.
    public func attach(_ collections: [CollectionLayout]) throws(StoreError) {
        layouts.withLock { table in
            for layout in collections { table[layout.name] = layout }
        }
        try run { () throws(MongoError) in
            let epoch = try ensureEpoch(proposed: Self.newEpoch()).value
            epochValue.withLock { $0 = epoch }
            log.raiseSettled(to: try log.storedWatermark())
        }
    }

    /// Every collection of the database but the store's own (`_changes`, `_meta`) and
    /// MongoDB's (`system.…`), by name.
    public func collectionNames() throws(StoreError) -> [String] {
        let command = BSONDocument(JSONObject([("listCollections", .int(1)), ("nameOnly", .bool(true))]))
        let reply = try run { () throws(MongoError) in try pool.command(command).json }
        let listed = reply["cursor"]?.objectValue?["firstBatch"]?.arrayValue ?? []
        return listed.compactMap { $0.objectValue?["name"]?.stringValue }.filter { !$0.hasPrefix("_") && !$0.hasPrefix("system.") }
            .sorted()
    }

    public func count(_ collection: String) throws(StoreError) -> Int {
        try check(collection)
        let command = BSONDocument()
        command.append("count", .string(collection))
        return try run { () throws(MongoError) in Int(try pool.command(command).json["n"]?.numberValue ?? 0) }
    }

    public func exportDocuments(
        _ collections: [String], start: (ChangeCursor) throws -> Void, batch: (String, [StoredDocument]) throws -> Void
    ) throws {
        for collection in collections { try check(collection) }
        try start(try head())
        // `_c` alone: unique per document, and its index ("creation") gives the order
        // without a sort in memory, which MongoDB refuses past 100 MB.
        let sort = BSONDocument(JSONObject([(MongoDocument.creationField, .int(1))]))
        for collection in collections {
            try pool.findBatches(collection, filter: BSONDocument(), sort: sort, batchSize: Self.transferBatch) { found in
                try batch(collection, found.compactMap { MongoDocument.stored($0)?.document })
            }
        }
    }

    public func existing(_ collection: String, ids: [String]) throws(StoreError) -> Set<String> {
        try check(collection)
        var found: Set<String> = []
        for filter in Self.idFilters(ids) {
            let projection = BSONDocument(JSONObject([("_id", .int(1))]))
            let documents = try run { () throws(MongoError) in try pool.find(collection, filter: filter, projection: projection) }
            for document in documents {
                if let id = document["_id"]?.stringValue { found.insert(id) }
            }
        }
        return found
    }

    public func importDocuments(_ feed: ((String, StoredDocument) throws -> Void) throws -> Void) throws -> String {
        let base = try run { () throws(MongoError) in try log.maxSequence() }
        var next = base
        var pending: [String: [BSONDocument]] = [:]
        var pendingIDs: [String: [String]] = [:]
        var inserted: [String: [String]] = [:]
        func flush(_ collection: String) throws {
            guard let documents = pending[collection], !documents.isEmpty else { return }
            let ids = pendingIDs[collection] ?? []
            let written = insertMany(collection, documents, ids: ids)
            inserted[collection, default: []] += ids[..<written.count]
            if let error = written.error { throw error }
            pending[collection] = []
            pendingIDs[collection] = []
        }
        do {
            try feed { collection, document in
                try check(collection)
                let object = document.parsed()
                if object[MongoDocument.creationField] != nil {
                    throw StoreError.internalError("the field \(MongoDocument.creationField) is reserved by the MongoDB store")
                }
                next += 1
                pending[collection, default: []].append(MongoDocument.bson(object, id: document.id, creation: next))
                pendingIDs[collection, default: []].append(document.id)
                if pending[collection]!.count >= Self.transferBatch { try flush(collection) }
            }
            for collection in pending.keys { try flush(collection) }
            // The log goes on after the imported documents' creation sequences.
            if next > base {
                try run { () throws(MongoError) in
                    try log.storeWatermark(next)
                    try log.insert(
                        Change(
                            sequence: next, collection: "", id: "", operation: .update, version: 0, document: nil, previous: nil,
                            origin: "import", time: ChangeLog.now()), creation: 0, state: .void)
                }
            }
            return try renewEpoch()
        } catch {
            for (collection, ids) in inserted { try? deleteAll(collection, ids) }
            throw error
        }
    }

    public func renewEpoch() throws(StoreError) -> String {
        let epoch = randomEpoch(not: self.epoch)
        let filter = BSONDocument(JSONObject([("_id", .string("epoch"))]))
        let update = BSONDocument(JSONObject([("$set", .object(JSONObject([("value", .string(epoch))])))]))
        try run { () throws(MongoError) in _ = try pool.update(ChangeLog.metaCollection, filter: filter, update: update, upsert: true) }
        epochValue.withLock { $0 = epoch }
        return epoch
    }

    /// One ordered `insert` of many documents (`ids` theirs, in order): how many went
    /// in (all of them, or those before the first write error), and that error with
    /// the document it is about. When the reply is lost, all are counted as possibly
    /// written, to be deleted again: the import's checks found none of these ids in
    /// the store, so no document of the store's own goes with them.
    private func insertMany(_ collection: String, _ documents: [BSONDocument], ids: [String]) -> (count: Int, error: (any Error)?) {
        let command = BSONDocument()
        command.append("insert", .string(collection))
        command.append("documents", array: documents)
        let reply: JSONObject
        do {
            reply = try run { () throws(MongoError) in try pool.command(command).json }
        } catch {
            return (documents.count, error)
        }
        guard let first = reply["writeErrors"]?.arrayValue?.first?.objectValue else { return (documents.count, nil) }
        let index = Int(first["index"]?.numberValue ?? -1)
        guard ids.indices.contains(index) else { return (0, MongoError(writeError: first).storeError) }
        return (index, BulkInsertError(collection: collection, id: ids[index], error: MongoError(writeError: first).storeError))
    }

    /// `{_id: {$in: […]}}` for `ids`, `transferBatch` at a time.
    static func idFilters(_ ids: [String]) -> [BSONDocument] {
        stride(from: 0, to: ids.count, by: transferBatch).map { start in
            let operand = BSONDocument()
            operand.appendIDOperand("$in", .array(ids[start..<min(start + transferBatch, ids.count)].map { .string($0) }))
            let filter = BSONDocument()
            filter.append("_id", document: operand)
            return filter
        }
    }

    private func deleteAll(_ collection: String, _ ids: [String]) throws(StoreError) {
        for filter in Self.idFilters(ids) {
            _ = try run { () throws(MongoError) in try pool.delete(collection, filter: filter, limit: 0) }
        }
    }
}
