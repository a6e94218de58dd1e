/// Errors a store reports, in store-neutral terms the service maps to HTTP.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// A unique field already holds this value (`field` is its dotted path).
    case uniqueViolation(field: String)
    /// The document id is taken.
    case duplicateID
    /// The store cannot be reached or refuses to work; retry later.
    case unavailable(String)
    /// A collection the store was not prepared for.
    case unknownCollection(String)
    /// `decide` answered `.refuse`: the caller's own rules refused the write, and the
    /// caller knows why.
    case refused
    /// A read ran past the time budget its caller gave and was stopped (nothing changed).
    case overBudget
    /// Something that should not happen; the message is for logs, not clients.
    case internalError(String)

    public var description: String {
        switch self {
        case .uniqueViolation(let field): return "unique field \(field) already holds this value"
        case .duplicateID: return "id already exists"
        case .unavailable(let why): return "store unavailable: \(why)"
        case .unknownCollection(let name): return "unknown collection \(name)"
        case .refused: return "refused by the caller's rules"
        case .overBudget: return "stopped: the read ran past its time budget"
        case .internalError(let message): return "internal store error: \(message)"
        }
    }
}
