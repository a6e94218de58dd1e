/// One entry of the change log: what a write did, written in the same transaction as
/// the document itself.
public struct Change: Sendable, Equatable {
    public enum Operation: String, Sendable {
        case create, update, delete
    }

    public let sequence: Int64
    public let collection: String
    public let id: String
    public let operation: Operation
    /// The document's version after the write (a delete raises it too).
    public let version: Int64
    /// The new document; nil for a delete.
    public let document: String?
    /// The document before the write; nil for a create. Filtered streams need it to
    /// tell when a document stops matching.
    public let previous: String?
    /// The `X-Client-Id` of the request that wrote it.
    public let origin: String?
    /// Unix time of the commit, in milliseconds.
    public let time: Int64

    public init(
        sequence: Int64, collection: String, id: String, operation: Operation, version: Int64,
        document: String?, previous: String?, origin: String?, time: Int64
    ) {
        self.sequence = sequence
        self.collection = collection
        self.id = id
        self.operation = operation
        self.version = version
        self.document = document
        self.previous = previous
        self.origin = origin
        self.time = time
    }
}
