import DocumentStore

/// Every failure's status, code and message, decided here: the service's and the
/// stores' errors speak their own terms, and only this file knows HTTP's.
extension APIError {
    /// Any error a handler throws or a write completes with. An error of no known kind
    /// is a 500 whose description goes to the log only.
    init(_ error: any Error) {
        switch error {
        case let error as APIError: self = error
        case let error as ServiceError: self.init(error)
        case let error as StoreError: self.init(ServiceError(error))
        case let error as Unauthenticated: self = .unauthenticated(error)
        default:
            self.init(500, "internal_error", "internal error")
            cause = "\(error)"
        }
    }

    init(_ error: ServiceError) {
        switch error {
        case .notFound(let collection, let id):
            self = .notFound("no document \(collection)/\(id)")
        case .invalidID:
            self = .badRequest("id must be a string matching ^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}$", code: "invalid_id")
        case .idMismatch:
            self = .badRequest("the body's id differs from the URL's", code: "id_mismatch")
        case .invalidVersion:
            self = .badRequest("_v must be an integer", code: "invalid_version")
        case .idTaken(let id?):
            self.init(409, "id_taken", "a document with id \(id) already exists")
        case .idTaken(nil):
            self.init(409, "id_taken", "a document with this id already exists")
        case .staleVersion(let current):
            self.init(409, "version_conflict", "the document has changed since it was read (stale _v)")
            self.current = current?.json ?? "null"
        case .preconditionFailed(let message):
            self.init(412, "precondition_failed", message)
        case .validation(let issues):
            self = .validation(issues)
        case .uniqueViolation(let field):
            self.init(409, "unique_violation", "another document already has this \(field)")
            details = [ValidationIssue(path: "/" + field.replacingOccurrences(of: ".", with: "/"), message: "is already taken")]
        case .forbidden(let message):
            self = .forbidden(message)
        case .unavailable(let why):
            self.init(503, "store_unavailable", "the store is unavailable; retry shortly")
            headers = [("Retry-After", "2")]
            cause = why
        case .unknownCollection(let name):
            self = .notFound("no collection named \(name)")
        case .internalFailure(let why):
            self.init(500, "internal_error", "internal error")
            cause = why
        case .overBudget:
            // The list routes run such a list again without a budget: never a client's.
            self.init(500, "internal_error", "internal error")
            cause = "a list stopped by its time budget was not run again"
        }
    }
}
