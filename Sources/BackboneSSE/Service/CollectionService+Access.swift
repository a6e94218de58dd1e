import DocumentStore

/// The owner conditions of DESIGN.md §5, applied where the documents are: in the list's
/// query and inside a write's transaction. (Whether a caller may do an action at all is
/// decided before, by `Authorization`; `Caller` carries what it decided.)
extension CollectionService {
    /// Does `permission` cover this document? (Parsed only when the owner decides: a
    /// read by a caller who may read everything parses nothing.)
    func allows(_ permission: Permission, _ document: @autoclosure () -> JSONObject) -> Bool {
        allows(permission) { document()[$0] }
    }

    /// The same for a stored document, reading only its owner field (a GET of an owned
    /// document would otherwise parse all of it for one string).
    func allows(_ permission: Permission, _ stored: StoredDocument) -> Bool {
        allows(permission) { JSONParser.member($0, of: stored.json) }
    }

    /// `owner`: the value of a document's field of that name.
    private func allows(_ permission: Permission, owner: (String) -> JSON?) -> Bool {
        switch permission {
        case .all: return true
        case .none: return false
        case .owned(let subject):
            guard let field = config.owner else { return false }
            return owner(field)?.stringValue?.sameCodeUnits(as: subject) == true
        }
    }

    /// What a caller is shown of a document it wrote, or whose write conflicted: all of
    /// it when it may read it, else its id and version only (a right to update is no
    /// right to read: `update: role:admin` beside `read: owner` changes documents it
    /// does not see).
    func shown(_ stored: StoredDocument, to caller: Caller) -> StoredDocument {
        guard !allows(caller.read, stored) else { return stored }
        let stub = JSONObject([("id", .string(stored.id)), ("_v", .int(stored.version))])
        return StoredDocument(id: stored.id, version: stored.version, json: JSON.object(stub).serialized)
    }

    /// The condition every document a caller reads must meet, ANDed to the client's
    /// filter (so no `$or` of the client's can widen it).
    func readableFilter(_ caller: Caller) throws(ServiceError) -> Filter {
        switch caller.read {
        case .all: return .all
        case .none: throw .forbidden("you may not read \(name)")
        case .owned(let subject):
            guard let field = config.owner.flatMap(FieldPath.init) else { throw .forbidden("you may not read \(name)") }
            return .compare(field, .eq, .string(subject))
        }
    }

    /// A write on an existing document: refused with 403 when the caller may see the
    /// document, else 404 (an id reveals nothing).
    func authorize(
        _ permission: Permission, on document: @autoclosure () -> JSONObject, id: String, caller: Caller, action: String
    ) throws(ServiceError) {
        guard !allows(permission, document()) else { return }
        if allows(caller.read, document()) { throw .forbidden("you may not \(action) \(name)/\(id)") }
        throw .notFound(collection: name, id: id)
    }

    /// A new document's body may leave the owner out or name the caller itself.
    func checkNewOwner(_ body: JSONObject, _ caller: Caller) -> ServiceError? {
        guard let field = config.owner else { return nil }
        switch body[field] {
        case nil, .null?: return nil
        case .string(let named)? where caller.subject.map(named.sameCodeUnits) == true: return nil
        default: return .forbidden("\(field) is set by the server to the token's sub; a document cannot be created for someone else")
        }
    }

    /// A write keeps the owner: the body may leave it out or repeat it, never change it
    /// (an admin included). The owner to store.
    func checkOwnerKept(_ body: JSONObject, _ previous: JSONObject) throws(ServiceError) -> String? {
        guard let field = config.owner else { return nil }
        let current = previous[field]?.stringValue
        switch body[field] {
        case nil, .null?: return current
        case .string(let named)? where current.map(named.sameCodeUnits) == true: return current
        default: throw .forbidden("\(field) cannot change")
        }
    }
}
