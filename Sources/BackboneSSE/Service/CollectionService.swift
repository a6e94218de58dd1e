import DocumentStore

/// The rules of one collection: ids, versions, defaults, timestamps, schema checks and
/// conditional writes, on top of any `DocumentStore`. Every write is decided inside the
/// store's transaction (`WriteRequest.decide`), so version checks cannot race.
public final class CollectionService: Sendable {
    public let config: CollectionConfig
    let store: any DocumentStore

    public init(config: CollectionConfig, store: any DocumentStore) {
        self.config = config
        self.store = store
    }

    public var name: String { config.name }

    public typealias WriteCompletion = @Sendable (Result<WriteResult, APIError>) -> Void

    func get(_ id: String) throws(APIError) -> (document: StoredDocument, cursor: ChangeCursor) {
        let read: (document: StoredDocument?, cursor: ChangeCursor)
        do { read = try store.read(name, id: id) } catch { throw APIError.from(error) }
        guard let document = read.document else { throw APIError.notFound("no document \(name)/\(id)") }
        return (document, read.cursor)
    }

    func list(_ query: ListQuery) throws(APIError) -> ListResult {
        do { return try store.list(name, query: query) } catch { throw APIError.from(error) }
    }

    /// The head, when answers read at a head stay true until it moves; nil otherwise.
    func cacheableHead() throws(APIError) -> Int64? {
        guard store.headCoversAcknowledgedWrites else { return nil }
        do { return try store.head().sequence } catch { throw APIError.from(error) }
    }

    /// `POST /{c}`: a new document, with the body's id or a generated one.
    func create(_ body: JSONObject, origin: String?, completion: @escaping WriteCompletion) {
        let id: String
        switch body["id"] {
        case nil, .null?:
            id = DocumentID.generate()
        case .string(let s)? where DocumentID.isValid(s):
            id = s
        default:
            return completion(.failure(.badRequest("id must be a string matching ^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}$", code: "invalid_id")))
        }
        let document: JSONObject
        do { document = try prepare(body, id: id, version: 1, previous: nil) } catch { return completion(.failure(error)) }
        write(id: id, origin: origin, completion: completion) { current in
            guard current == nil else { throw APIError(409, "id_taken", "a document with id \(id) already exists") }
            return .insert(document, version: 1)
        }
    }

    /// `PUT /{c}/{id}`: replace the document, or create it with this id.
    func replace(_ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, completion: @escaping WriteCompletion) {
        if let error = checkBodyID(body, id) { return completion(.failure(error)) }
        let sentVersion: Int64?
        do { sentVersion = try Self.sentVersion(body) } catch { return completion(.failure(error)) }
        write(id: id, origin: origin, completion: completion) { current in
            try condition.check(current)
            let previous = current?.parsed()
            if let sentVersion, sentVersion != current?.version {
                throw Self.stale(current)
            }
            let version = (current?.version ?? 0) + 1
            let document = try self.prepare(body, id: id, version: version, previous: previous)
            return current == nil ? .insert(document, version: version) : .update(document, version: version)
        }
    }

    /// `PATCH /{c}/{id}`: a shallow merge of the sent attributes.
    func patch(_ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, completion: @escaping WriteCompletion) {
        if let error = checkBodyID(body, id) { return completion(.failure(error)) }
        let sentVersion: Int64?
        do { sentVersion = try Self.sentVersion(body) } catch { return completion(.failure(error)) }
        write(id: id, origin: origin, completion: completion) { current in
            guard let current else { throw APIError.notFound("no document \(self.name)/\(id)") }
            try condition.check(current)
            if let sentVersion, sentVersion != current.version { throw Self.stale(current) }
            let previous = current.parsed()
            var merged = previous
            for (key, value) in body.members { merged[key] = value }
            let version = current.version + 1
            return .update(try self.prepare(merged, id: id, version: version, previous: previous), version: version)
        }
    }

    /// `DELETE /{c}/{id}`.
    func delete(_ id: String, condition: WriteCondition, origin: String?, completion: @escaping WriteCompletion) {
        write(id: id, origin: origin, completion: completion) { current in
            guard let current else { throw APIError.notFound("no document \(self.name)/\(id)") }
            try condition.check(current)
            return .delete(version: current.version + 1)
        }
    }

    private func write(
        id: String, origin: String?, completion: @escaping WriteCompletion,
        decide: @escaping @Sendable (StoredDocument?) throws -> WriteDecision
    ) {
        let request = WriteRequest(collection: name, id: id, origin: origin, decide: decide)
        store.write(request) { result in
            completion(result.mapError { APIError.from($0) })
        }
    }

    private func checkBodyID(_ body: JSONObject, _ id: String) -> APIError? {
        switch body["id"] {
        case nil, .null?: return nil
        case .string(let s)? where s == id: return nil
        default: return .badRequest("the body's id differs from the URL's", code: "id_mismatch")
        }
    }

    static func sentVersion(_ body: JSONObject) throws(APIError) -> Int64? {
        switch body["_v"] {
        case nil, .null?: return nil
        case .int(let v)?: return v
        default: throw APIError.badRequest("_v must be an integer", code: "invalid_version")
        }
    }

    static func stale(_ current: StoredDocument?) -> APIError {
        var error = APIError(409, "version_conflict", "the document has changed since it was read (stale _v)")
        error.current = current?.json ?? "null"
        return error
    }

    /// The document to store: the sent attributes without server fields, defaults
    /// filled in, checked against the schema, then `id`, timestamps and `_v` added.
    func prepare(_ attributes: JSONObject, id: String, version: Int64, previous: JSONObject?) throws(APIError) -> JSONObject {
        var user = attributes
        for field in config.serverFields { _ = user.removeValue(forKey: field) }
        SchemaValidator.applyDefaults(&user, schema: config.schema)
        let issues = SchemaValidator.validate(.object(user), against: config.schema)
        guard issues.isEmpty else { throw APIError.validation(issues) }
        var document = JSONObject([("id", .string(id))])
        for member in user.members { document[member.key] = member.value }
        if config.timestamps {
            let now = DateTime.now()
            document["created"] = previous?["created"] ?? .string(now)
            document["updated"] = .string(now)
        }
        document["_v"] = .int(version)
        return document
    }
}

/// `If-Match` / `If-None-Match: *` on a write, checked against the stored document.
struct WriteCondition: Sendable {
    /// Versions from `If-Match`; nil when absent; empty set with `anyMatch` for `*`.
    var ifMatch: Set<Int64>?
    var ifMatchAny = false
    /// `If-None-Match: *`: only create.
    var createOnly = false

    static let none = WriteCondition()

    func check(_ current: StoredDocument?) throws {
        if createOnly, current != nil {
            throw APIError(412, "precondition_failed", "the document exists (If-None-Match: *)")
        }
        if ifMatchAny {
            if current == nil { throw APIError(412, "precondition_failed", "the document does not exist (If-Match: *)") }
        } else if let ifMatch {
            guard let current, ifMatch.contains(current.version) else {
                throw APIError(412, "precondition_failed", "If-Match does not match the document's current version")
            }
        }
    }
}
