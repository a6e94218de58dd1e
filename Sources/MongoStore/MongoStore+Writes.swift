import DocumentStore
import Dispatch

/// A write: read the current document, `decide`, claim a sequence (its change-log
/// entry, pending), write the document on the condition that it is still the one
/// decided on, mark the entry done. Four commands when nothing races. The sequence is
/// claimed after the read, so for any one document the log's order is the order of
/// its versions; a lost race voids the claim and starts again from the read.
extension MongoStore {
    public func write(_ write: WriteRequest, completion: @escaping @Sendable (Result<WriteResult, StoreError>) -> Void) {
        guard layouts.withLock({ $0[write.collection] != nil }) else {
            completion(.failure(.unknownCollection(write.collection)))
            return
        }
        workers.submit { [self] in completion(perform(write)) }
    }

    /// What one attempt came to.
    private enum Attempt {
        case finished(Result<WriteResult, StoreError>)
        /// The document changed between the read and the write: read and decide again.
        case conflict
    }

    func perform(_ request: WriteRequest) -> Result<WriteResult, StoreError> {
        for round in 0..<100 {
            let attempt: Attempt
            do {
                if needsRecovery.load(ordering: .relaxed) { try recover() }
                // A new id needs no lookup, but an insert refused as a duplicate comes
                // back here: then the next round looks.
                attempt = try self.attempt(request, looking: round > 0 || !request.idIsNew)
            } catch {
                return .failure(noted(error))
            }
            switch attempt {
            case .finished(let result):
                if case .success = result { counters.writes.add(1, ordering: .relaxed) }
                return result
            case .conflict:
                counters.conflicts.add(1, ordering: .relaxed)
            }
        }
        return .failure(.unavailable("too many concurrent writes to \(request.collection)/\(request.id)"))
    }

    private func attempt(_ request: WriteRequest, looking: Bool) throws(MongoError) -> Attempt {
        let found = looking ? try pool.find(request.collection, filter: MongoDocument.idFilter(request.id), limit: 1).first : nil
        let current = found.flatMap(MongoDocument.stored)
        let decision = request.decide(current?.document)
        let operation: Change.Operation
        let document: JSONObject?
        let version: Int64
        switch decision {
        case .insert(let d, let v):
            guard current == nil else { return .finished(.failure(.duplicateID)) }
            (operation, document, version) = (.create, d, v)
        case .update(let d, let v):
            guard current != nil else { return .finished(.failure(.internalError("update of a missing document"))) }
            (operation, document, version) = (.update, d, v)
        case .delete(let v):
            guard current != nil else { return .finished(.failure(.internalError("delete of a missing document"))) }
            (operation, document, version) = (.delete, nil, v)
        case .refuse:
            return .finished(.failure(.refused))
        }
        if document?[MongoDocument.creationField] != nil {
            return .finished(.failure(.internalError("the field \(MongoDocument.creationField) is reserved by the MongoDB store")))
        }
        let json = document.map { JSON.object($0).serialized }
        var change = Change(
            sequence: 0, collection: request.collection, id: request.id, operation: operation, version: version,
            document: json, previous: current?.document.json, origin: request.origin, time: ChangeLog.now())
        let creationOfCurrent = current?.creation ?? 0
        change = try claim(change, creation: creationOfCurrent, state: .pending)
        let sequence = change.sequence

        // The document write, on the condition that it is still what `decide` saw.
        let applied: Bool
        do {
            switch decision {
            case .insert(let d, _):
                applied = try pool.insert(request.collection, MongoDocument.bson(d, id: request.id, creation: sequence)).n == 1
            case .update(let d, _):
                applied =
                    try pool.update(
                        request.collection, filter: MongoDocument.versionFilter(request.id, version: current!.document.version),
                        update: MongoDocument.bson(d, id: request.id, creation: creationOfCurrent)
                    ).n == 1
            case .delete:
                applied =
                    try pool.delete(
                        request.collection, filter: MongoDocument.versionFilter(request.id, version: current!.document.version), limit: 1
                    ).n == 1
            case .refuse:
                preconditionFailure("a refusal is answered before a sequence is claimed")
            }
        } catch  where error.kind == .duplicateKey {
            try void(sequence)
            if error.storeError.isDuplicateID { return .conflict }  // created meanwhile: decide again
            return .finished(.failure(error.storeError))
        } catch  where error.kind == .unavailable {
            // Written or not, nobody can tell now: the entry stays pending and the lease
            // settles it by looking at the document.
            settle { $0.release(sequence) }
            throw error
        } catch {
            try? void(sequence)
            throw error
        }
        guard applied else {
            try void(sequence)
            return .conflict
        }

        // Committed. From here the write is acknowledged whatever happens to the mark.
        let stored = json.map { StoredDocument(id: request.id, version: version, json: $0) }
        let final: Change
        do {
            final = try markDone(change, creation: creationOfCurrent)
        } catch {
            logger.warning(
                "change committed, but marking it done failed: retrying in the background",
                metadata: ["change.sequence": "\(sequence)", "error": "\(error)"])
            settle { $0.release(sequence) }
            retryMarkDone(change, creation: creationOfCurrent, attempt: 1)
            final = change
        }
        return .finished(
            .success(WriteResult(document: stored, change: final, cursor: ChangeCursor(epoch: epoch, sequence: final.sequence))))
    }

    /// Inserts the change's entry under the next free sequence.
    private func claim(_ change: Change, creation: Int64, state: ChangeLog.State) throws(MongoError) -> Change {
        while true {
            let sequence = order.withLock { $0.allocate() }
            let claimed = change.with(sequence: sequence)
            do {
                try log.insert(claimed, creation: creation, state: state)
                return claimed
            } catch  where error.kind == .duplicateKey {
                // Another instance took it (or a reader voided it after a lease).
                settle { $0.release(sequence) }
                let top = try log.maxSequence()
                order.withLock { $0.raise(to: top) }
            } catch {
                settle { $0.release(sequence) }
                throw error
            }
        }
    }

    private func void(_ sequence: Int64) throws(MongoError) {
        do {
            _ = try log.settle(sequence, as: .void)
            settle { $0.void(sequence) }
        } catch {
            settle { $0.release(sequence) }
            throw error
        }
    }

    /// Marks the change done; when a reader had voided it meanwhile (this writer was
    /// slower than the lease), logs it again under a new sequence, done at once.
    private func markDone(_ change: Change, creation: Int64) throws(MongoError) -> Change {
        // Not pending any more: done by an earlier try whose reply was lost, or voided.
        var done = try log.settle(change.sequence, as: .done)
        if !done { done = try log.state(of: change.sequence) == .done }
        if done {
            settle { $0.committed(change) }
            return change
        }
        settle { $0.release(change.sequence) }
        counters.relogged.add(1, ordering: .relaxed)
        let again = try claim(change.with(sequence: 0), creation: creation, state: .done)
        settle { $0.committed(again) }
        return again
    }

    private func retryMarkDone(_ change: Change, creation: Int64, attempt: Int) {
        guard Double(attempt) * 0.5 < Double(log.leaseMilliseconds) / 2000 else { return }  // the lease will settle it
        retrier.asyncAfter(deadline: .now() + 0.5) { [self] in
            do {
                _ = try markDone(change, creation: creation)
            } catch {
                retryMarkDone(change, creation: creation, attempt: attempt + 1)
            }
        }
    }

    // MARK: Handing changes to the listener, in order

    /// Updates the commit order and hands what it releases to the listener. The hand-off
    /// is queued under the lock, so batches reach the listener in sequence order.
    func settle(_ update: (inout CommitOrder) -> [Change]) {
        let listener = self.listener.current
        order.withLock { state in
            let released = update(&state)
            if !released.isEmpty, let listener { notifier.async { listener(released) } }
        }
    }
}

extension Change {
    func with(sequence: Int64) -> Change {
        Change(
            sequence: sequence, collection: collection, id: id, operation: operation, version: version,
            document: document, previous: previous, origin: origin, time: time)
    }
}

extension StoreError {
    var isDuplicateID: Bool {
        if case .duplicateID = self { return true }
        return false
    }
}
