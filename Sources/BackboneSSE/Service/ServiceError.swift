import DocumentStore

/// Why the service did not do what was asked, in its own terms. The HTTP layer maps
/// each case to a status and an error code in one place (`APIError.init(_: ServiceError)`).
public enum ServiceError: Error, Sendable {
    /// No such document in the collection.
    case notFound(collection: String, id: String)
    /// The body's `id` is not a valid document id.
    case invalidID
    /// The body's `id` differs from the one in the URL.
    case idMismatch
    /// The body's `_v` is not an integer.
    case invalidVersion
    /// A create found a document with this id.
    case idTaken(id: String?)
    /// The body's `_v` is not the stored one; `current` is the stored document (nil when
    /// there is none).
    case staleVersion(current: StoredDocument?)
    /// An `If-Match` / `If-None-Match` condition does not hold.
    case preconditionFailed(String)
    /// The document does not match the collection's schema.
    case validation([ValidationIssue])
    /// Another document already holds this value of a unique field (dotted path).
    case uniqueViolation(field: String)
    /// The caller's rules do not allow this write (DESIGN.md §5); what it may not read
    /// is `notFound` instead.
    case forbidden(String)
    /// The store cannot answer now; retry later.
    case unavailable(String)
    /// A collection the store does not know.
    case unknownCollection(String)
    /// A read stopped by the time budget its caller gave (`CollectionService.list`).
    case overBudget
    /// A failure the client cannot act on; `cause` is for the log only.
    case internalFailure(cause: String)

    /// What a store failure means to the service.
    init(_ error: StoreError) {
        switch error {
        case .uniqueViolation(let field): self = .uniqueViolation(field: field)
        case .duplicateID: self = .idTaken(id: nil)
        case .unavailable(let why): self = .unavailable(why)
        case .unknownCollection(let name): self = .unknownCollection(name)
        case .refused: self = .internalFailure(cause: "the store reported a refusal the service did not make")
        case .overBudget: self = .overBudget
        case .internalError(let message): self = .internalFailure(cause: message)
        }
    }
}
