/// A write, decided inside the store's transaction: the store reads the current
/// document, `decide` says what to do with it, and the store applies that together
/// with its change-log entry. Version checks made in `decide` are therefore atomic.
/// A `decide` that refuses answers `.refuse` and keeps its reason itself: the store
/// writes nothing and reports `StoreError.refused`, without carrying the caller's
/// error through.
public struct WriteRequest: Sendable {
    public let collection: String
    public let id: String
    /// The `X-Client-Id` of the request, kept in the change log.
    public let origin: String?
    public let decide: @Sendable (_ current: StoredDocument?) -> WriteDecision
    /// The id was just generated (`DocumentID.generate`), so no stored document has it:
    /// the store decides without looking for one. Should one have it all the same, the
    /// store's unique id refuses the insert, as for any id taken meanwhile.
    public let idIsNew: Bool

    public init(
        collection: String, id: String, origin: String?, idIsNew: Bool = false,
        decide: @escaping @Sendable (StoredDocument?) -> WriteDecision
    ) {
        self.collection = collection
        self.id = id
        self.origin = origin
        self.idIsNew = idIsNew
        self.decide = decide
    }
}

/// What `decide` asks for. The document must carry `id` and the new `_v`.
public enum WriteDecision: Sendable {
    /// Store a new document (there was none).
    case insert(JSONObject, version: Int64)
    /// Replace the current document.
    case update(JSONObject, version: Int64)
    /// Delete the current document; the deletion's version is `version`.
    case delete(version: Int64)
    /// Write nothing: the caller's rules refuse the write (the store answers `.refused`).
    case refuse
}

public struct WriteResult: Sendable {
    /// The document as stored now; nil after a delete.
    public let document: StoredDocument?
    public let change: Change
    public let cursor: ChangeCursor

    public init(document: StoredDocument?, change: Change, cursor: ChangeCursor) {
        self.document = document
        self.change = change
        self.cursor = cursor
    }
}
