/// What `export`, `import`, `copy` and `restore` need of a store besides serving:
/// every document in creation order, documents written in bulk as they are, and a new
/// epoch. Implemented by `SQLiteStore` and `MongoStore`; the server never calls it.
///
/// Imported documents do not enter the change log: the import gives the store a new
/// epoch, so every cursor handed out before resets (`reset`, reason `epoch`) and its
/// client refetches, and a client that starts after the import fetches, then streams
/// from the list's cursor, which is at or past the import.
public protocol BulkTransfer: DocumentStore {
    /// Takes `collections` as `prepare` does, but changes nothing a server on the same
    /// store relies on (no index made or dropped): for reading a live store, or one
    /// whose config may differ from the one given.
    func attach(_ collections: [CollectionLayout]) throws(StoreError)

    /// The collections the store holds documents for (made by `prepare`), in the order
    /// they were made where the store knows it: what an export without a config reads.
    func collectionNames() throws(StoreError) -> [String]

    /// How many documents `collection` holds.
    func count(_ collection: String) throws(StoreError) -> Int

    /// Reads every document of `collections`, each collection in creation order:
    /// `start` gets the change-log position the documents reflect (the head before
    /// the first read; where the store has snapshots, exactly the documents' own),
    /// then `batch` gets them a batch at a time.
    func exportDocuments(
        _ collections: [String], start: (ChangeCursor) throws -> Void, batch: (String, [StoredDocument]) throws -> Void
    ) throws

    /// The ones of `ids` that `collection` already holds.
    func existing(_ collection: String, ids: [String]) throws(StoreError) -> Set<String>

    /// Inserts the documents `feed` hands to its `insert` as they are (id, `_v` and the
    /// JSON text kept), after the collection's own, then gives the store a new epoch,
    /// which it returns. All or nothing: when `feed` or an insert throws, what was
    /// inserted is taken back (a rollback, or deleted again where the store has no
    /// transaction of that size) and the epoch stays.
    func importDocuments(_ feed: (_ insert: (String, StoredDocument) throws -> Void) throws -> Void) throws -> String

    /// Gives the store a new epoch (every cursor handed out before resets); returns it.
    func renewEpoch() throws(StoreError) -> String
}

/// A new random epoch: 8 hex digits, never that of `previous`.
public func randomEpoch(not previous: String = "") -> String {
    while true {
        let epoch = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16)
        if epoch != previous { return epoch }
    }
}

/// A document `importDocuments` could not insert (its id taken, a unique value
/// taken): the whole import was taken back.
public struct BulkInsertError: Error, Sendable, CustomStringConvertible {
    public let collection: String
    public let id: String
    public let error: StoreError

    public init(collection: String, id: String, error: StoreError) {
        self.collection = collection
        self.id = id
        self.error = error
    }

    public var description: String { "\(collection)/\(id): \(error)" }
}
