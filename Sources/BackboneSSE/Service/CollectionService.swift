import DocumentStore
import Synchronization

/// The rules of one collection: ids, versions, defaults, timestamps, schema checks and
/// conditional writes, on top of any `DocumentStore`. Every write is decided inside the
/// store's transaction (`WriteRequest.decide`), so version checks cannot race.
public final class CollectionService: Sendable {
    public let config: CollectionConfig
    let store: any DocumentStore
    /// `config.serverFields`, taken once: every write strips them from its body.
    private let serverFields: [String]

    public init(config: CollectionConfig, store: any DocumentStore) {
        self.config = config
        self.store = store
        serverFields = Array(config.serverFields)
    }

    public var name: String { config.name }

    public typealias WriteCompletion = @Sendable (Result<WriteResult, ServiceError>) -> Void

    func get(_ id: String) throws(ServiceError) -> (document: StoredDocument, cursor: ChangeCursor) {
        let read: (document: StoredDocument?, cursor: ChangeCursor)
        do { read = try store.read(name, id: id) } catch { throw ServiceError(error) }
        guard let document = read.document else { throw .notFound(collection: name, id: id) }
        return (document, read.cursor)
    }

    /// The document, if `caller` may read it (else, as if there were none: 404).
    func get(_ id: String, as caller: Caller) throws(ServiceError) -> (document: StoredDocument, cursor: ChangeCursor) {
        let read = try get(id)
        guard allows(caller.read, read.document) else { throw .notFound(collection: name, id: id) }
        return read
    }

    /// A page of what `caller` may read: with `read: owner` the owner condition joins
    /// the query itself, so counts, pages and any `$or` stay within the caller's documents.
    /// Past `budget` the store may stop it (`.overBudget`).
    func list(_ query: ListQuery, as caller: Caller, within budget: Duration? = nil) throws(ServiceError) -> ListResult {
        var query = query
        query.filter = try readableFilter(caller) && query.filter
        do { return try store.list(name, query: query, within: budget) } catch { throw ServiceError(error) }
    }

    /// The head, when answers read at a head stay true until it moves; nil otherwise.
    func cacheableHead() throws(ServiceError) -> Int64? {
        guard store.headCoversAcknowledgedWrites else { return nil }
        do { return try store.head().sequence } catch { throw ServiceError(error) }
    }

    /// `POST /{c}`: a new document, with the body's id or a generated one.
    func create(_ body: JSONObject, origin: String?, as caller: Caller = .unrestricted, completion: @escaping WriteCompletion) {
        guard caller.create.allowsAny else { return completion(.failure(.forbidden("you may not create \(name)"))) }
        if let error = checkNewOwner(body, caller) { return completion(.failure(error)) }
        let id: String
        let idIsNew: Bool
        switch body["id"] {
        case nil, .null?:
            (id, idIsNew) = (DocumentID.generate(), true)
        case .string(let s)? where DocumentID.isValid(s):
            (id, idIsNew) = (s, false)
        default:
            return completion(.failure(.invalidID))
        }
        let document: JSONObject
        do { document = try prepare(body, id: id, version: 1, previous: nil, owner: caller.subject) } catch {
            return completion(.failure(error))
        }
        write(id: id, idIsNew: idIsNew, origin: origin, completion: completion) { (current) throws(ServiceError) in
            guard current == nil else { throw .idTaken(id: id) }
            return .insert(document, version: 1)
        }
    }

    /// `PUT /{c}/{id}`: replace the document, or create it with this id.
    func replace(
        _ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, as caller: Caller = .unrestricted,
        completion: @escaping WriteCompletion
    ) {
        if let error = checkBodyID(body, id) { return completion(.failure(error)) }
        let sentVersion: Int64?
        do { sentVersion = try Self.sentVersion(body) } catch { return completion(.failure(error)) }
        write(id: id, origin: origin, completion: completion) { (current) throws(ServiceError) in
            // The rules first: a 412 or a 409 (which carries the document) would tell
            // about a document the caller may not see.
            let previous = current?.parsed()
            let owner: String?
            if let previous {
                try self.authorize(caller.update, on: previous, id: id, caller: caller, action: "update")
                owner = try self.checkOwnerKept(body, previous)
            } else {
                guard caller.create.allowsAny else { throw .forbidden("you may not create \(self.name)") }
                if let error = self.checkNewOwner(body, caller) { throw error }
                owner = caller.subject
            }
            try condition.check(current)
            if let sentVersion, sentVersion != current?.version {
                throw .staleVersion(current: current.map { self.shown($0, to: caller) })
            }
            let version = (current?.version ?? 0) + 1
            let document = try self.prepare(body, id: id, version: version, previous: previous, owner: owner)
            return current == nil ? .insert(document, version: version) : .update(document, version: version)
        }
    }

    /// `PATCH /{c}/{id}`: a shallow merge of the sent attributes.
    func patch(
        _ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, as caller: Caller = .unrestricted,
        completion: @escaping WriteCompletion
    ) {
        if let error = checkBodyID(body, id) { return completion(.failure(error)) }
        let sentVersion: Int64?
        do { sentVersion = try Self.sentVersion(body) } catch { return completion(.failure(error)) }
        write(id: id, origin: origin, completion: completion) { (current) throws(ServiceError) in
            guard let current else { throw .notFound(collection: self.name, id: id) }
            let previous = current.parsed()
            try self.authorize(caller.update, on: previous, id: id, caller: caller, action: "update")
            let owner = try self.checkOwnerKept(body, previous)
            try condition.check(current)
            if let sentVersion, sentVersion != current.version { throw .staleVersion(current: self.shown(current, to: caller)) }
            var merged = previous
            for (key, value) in body.members { merged[key] = value }
            let version = current.version + 1
            return .update(try self.prepare(merged, id: id, version: version, previous: previous, owner: owner), version: version)
        }
    }

    /// `DELETE /{c}/{id}`.
    func delete(
        _ id: String, condition: WriteCondition, origin: String?, as caller: Caller = .unrestricted, completion: @escaping WriteCompletion
    ) {
        write(id: id, origin: origin, completion: completion) { (current) throws(ServiceError) in
            guard let current else { throw .notFound(collection: self.name, id: id) }
            try self.authorize(caller.delete, on: current.parsed(), id: id, caller: caller, action: "delete")
            try condition.check(current)
            return .delete(version: current.version + 1)
        }
    }

    /// Runs `rules` inside the store's transaction. A refusal is kept here and the store
    /// told only to write nothing, so the reason reaches the caller with its own type.
    private func write(
        id: String, idIsNew: Bool = false, origin: String?, completion: @escaping WriteCompletion,
        rules: @escaping @Sendable (StoredDocument?) throws(ServiceError) -> WriteDecision
    ) {
        let refusal = Refusal()
        let request = WriteRequest(collection: name, id: id, origin: origin, idIsNew: idIsNew) { current in
            do throws(ServiceError) { return try rules(current) } catch {
                refusal.reason.withLock { $0 = error }
                return .refuse
            }
        }
        store.write(request) { result in
            completion(
                result.mapError { error in
                    if case .refused = error, let reason = refusal.reason.withLock({ $0 }) { return reason }
                    return ServiceError(error)
                })
        }
    }

    /// Why `rules` refused a write (the store may run them more than once: the last word).
    private final class Refusal: Sendable {
        let reason = Mutex<ServiceError?>(nil)
    }

    private func checkBodyID(_ body: JSONObject, _ id: String) -> ServiceError? {
        switch body["id"] {
        case nil, .null?: return nil
        case .string(let s)? where s == id: return nil
        default: return .idMismatch
        }
    }

    static func sentVersion(_ body: JSONObject) throws(ServiceError) -> Int64? {
        switch body["_v"] {
        case nil, .null?: return nil
        case .int(let v)?: return v
        default: throw .invalidVersion
        }
    }

    /// The document to store: the sent attributes without server fields, defaults
    /// filled in, checked against the schema, then `id`, timestamps and `_v` added.
    /// A document's own fields (the server's taken out) with the schema's defaults, and
    /// what the schema says against them: what a write of them would be refused for.
    func checked(_ attributes: JSONObject) -> (fields: JSONObject, issues: [ValidationIssue]) {
        var user = attributes
        for field in serverFields { _ = user.removeValue(forKey: field) }
        SchemaValidator.applyDefaults(&user, schema: config.schema)
        return (user, SchemaValidator.validate(.object(user), against: config.schema))
    }

    func prepare(
        _ attributes: JSONObject, id: String, version: Int64, previous: JSONObject?, owner: String? = nil
    ) throws(ServiceError) -> JSONObject {
        let (user, issues) = checked(attributes)
        guard issues.isEmpty else { throw .validation(issues) }
        // Appended, not looked up: the body's members are unique (the parser refuses a
        // repeated name) and none is a server field (`checked` took those out).
        var members: [(key: String, value: JSON)] = [("id", .string(id))]
        members.reserveCapacity(user.count + 5)
        if let field = config.owner, let owner { members.append((field, .string(owner))) }
        members += user.members
        if config.timestamps {
            let now = DateTime.now()
            members.append(("created", previous?["created"] ?? .string(now)))
            members.append(("updated", .string(now)))
        }
        members.append(("_v", .int(version)))
        return JSONObject(members)
    }
}

/// `If-Match` / `If-None-Match: *` on a write, checked against the stored document.
struct WriteCondition: Sendable {
    /// Versions from `If-Match`; nil when absent; empty set with `anyMatch` for `*`.
    var ifMatch: Set<Int64>?
    var ifMatchAny = false
    /// `If-None-Match: *`: only create.
    var createOnly = false

    func check(_ current: StoredDocument?) throws(ServiceError) {
        if createOnly, current != nil {
            throw .preconditionFailed("the document exists (If-None-Match: *)")
        }
        if ifMatchAny {
            if current == nil { throw .preconditionFailed("the document does not exist (If-Match: *)") }
        } else if let ifMatch {
            guard let current, ifMatch.contains(current.version) else {
                throw .preconditionFailed("If-Match does not match the document's current version")
            }
        }
    }
}
