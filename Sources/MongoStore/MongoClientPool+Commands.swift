import DocumentStore

/// The few commands the store sends, as typed calls over `command`: one round trip
/// each (a `find` whose batch the server had to split takes `getMore`s).
extension MongoClientPool {
    struct WriteOutcome {
        /// Documents matched (update), inserted or deleted.
        let n: Int
    }

    /// Matching documents as JSON (ObjectIds as their hex digits): `limit` 0 means no limit. The whole result is asked
    /// for in the first batch, so a page needs one `find` unless it passes 16 MB.
    ///
    /// `maxTime`: the server stops the read once it has run that long (`maxTimeMS`, the
    /// cursor's `getMore`s included) and the call throws `.overBudget`.
    func find(
        _ collection: String, filter: BSONDocument, sort: BSONDocument? = nil, projection: BSONDocument? = nil,
        skip: Int = 0, limit: Int = 0, maxTime: Duration? = nil
    ) throws(MongoError) -> [JSONObject] {
        let command = BSONDocument()
        command.append("find", .string(collection))
        command.append("filter", document: filter)
        if let sort { command.append("sort", document: sort) }
        if let projection { command.append("projection", document: projection) }
        if skip > 0 { command.append("skip", .int(Int64(skip))) }
        if limit > 0 {
            command.append("limit", .int(Int64(limit)))
            command.append("batchSize", .int(Int64(limit)))
        }
        if let maxTime { command.append("maxTimeMS", .int(Self.maxTimeMS(maxTime))) }
        var reply = try self.command(command).json
        var documents: [JSONObject] = []
        while true {
            let cursor = reply["cursor"]?.objectValue ?? JSONObject()
            let batch = cursor["firstBatch"]?.arrayValue ?? cursor["nextBatch"]?.arrayValue ?? []
            documents += batch.compactMap(\.objectValue)
            guard case .int(let cursorID)? = cursor["id"], cursorID != 0 else { return documents }
            let more = BSONDocument()
            more.append("getMore", .int(cursorID))
            more.append("collection", .string(collection))
            reply = try self.command(more).json
        }
    }

    /// Matching documents a batch at a time (`getMore` after the first), for reads
    /// too large to hold at once.
    func findBatches(
        _ collection: String, filter: BSONDocument, sort: BSONDocument, batchSize: Int, _ body: ([JSONObject]) throws -> Void
    ) throws {
        let command = BSONDocument()
        command.append("find", .string(collection))
        command.append("filter", document: filter)
        command.append("sort", document: sort)
        command.append("batchSize", .int(Int64(batchSize)))
        var reply = try self.command(command).json
        while true {
            let cursor = reply["cursor"]?.objectValue ?? JSONObject()
            let batch = cursor["firstBatch"]?.arrayValue ?? cursor["nextBatch"]?.arrayValue ?? []
            try body(batch.compactMap(\.objectValue))
            guard case .int(let cursorID)? = cursor["id"], cursorID != 0 else { return }
            let more = BSONDocument()
            more.append("getMore", .int(cursorID))
            more.append("collection", .string(collection))
            more.append("batchSize", .int(Int64(batchSize)))
            reply = try self.command(more).json
        }
    }

    func insert(_ collection: String, _ document: BSONDocument) throws(MongoError) -> WriteOutcome {
        let command = BSONDocument()
        command.append("insert", .string(collection))
        command.append("documents", array: [document])
        return try write(command)
    }

    /// `update` of one document: `update` is a replacement or an operator document.
    func update(_ collection: String, filter: BSONDocument, update: BSONDocument, upsert: Bool = false) throws(MongoError) -> WriteOutcome {
        let statement = BSONDocument()
        statement.append("q", document: filter)
        statement.append("u", document: update)
        if upsert { statement.append("upsert", .bool(true)) }
        let command = BSONDocument()
        command.append("update", .string(collection))
        command.append("updates", array: [statement])
        return try write(command)
    }

    func delete(_ collection: String, filter: BSONDocument, limit: Int) throws(MongoError) -> WriteOutcome {
        let statement = BSONDocument()
        statement.append("q", document: filter)
        statement.append("limit", .int(Int64(limit)))
        let command = BSONDocument()
        command.append("delete", .string(collection))
        command.append("deletes", array: [statement])
        return try write(command)
    }

    /// A write command: `ok: 1` can still carry `writeErrors`; the first one is thrown.
    private func write(_ command: BSONDocument) throws(MongoError) -> WriteOutcome {
        let reply = try self.command(command).json
        if let first = reply["writeErrors"]?.arrayValue?.first?.objectValue {
            throw MongoError(writeError: first)
        }
        if let concern = reply["writeConcernError"]?.objectValue {
            throw MongoError(.failed, concern["errmsg"]?.stringValue ?? "write concern error")
        }
        return WriteOutcome(n: Int(reply["n"]?.numberValue ?? 0))
    }

    /// A budget as whole milliseconds for `maxTimeMS`, rounded up (a server reads 0 as
    /// no limit) and at most what the server takes (a 32-bit count).
    static func maxTimeMS(_ budget: Duration) -> Int64 {
        let milliseconds = (budget / .milliseconds(1)).rounded(.up)
        return Int64(min(max(milliseconds, 1), Double(Int32.max)))
    }
}
