import DocumentStore

/// The store-neutral filter tree and sort keys as MongoDB query documents, built value
/// by value: only the operators of the tree (`$eq $ne $gt $gte $lt $lte $in $nin
/// $exists $and $or`) are ever written, whatever the client sent.
enum MongoQuery {
    /// Documents keep `id` as `_id`, and a hidden creation sequence `_c` that orders
    /// them as SQLite's rowid does (creation order, ties after any sort key).
    static let creationField = "_c"

    static func field(_ path: FieldPath) -> String {
        path.components == ["id"] ? "_id" : path.description
    }

    /// `scalar`: the paths the collection's layout says are never arrays (the owner
    /// field, schema scalars). MongoDB's `$eq`, `$in` and the ordering operators match an
    /// array by any of its elements; on these paths a stored array (a document from
    /// before the schema or the owner field was set) must match nothing, as on SQLite,
    /// where they are plain comparisons: an owner list `["alice", "bob"]` is neither's.
    static func filter(_ filter: Filter, scalar: Set<FieldPath> = []) -> BSONDocument {
        let doc = BSONDocument()
        append(filter, to: doc, scalar)
        return doc
    }

    private static func append(_ filter: Filter, to doc: BSONDocument, _ scalar: Set<FieldPath>) {
        switch filter {
        case .all:
            break
        case .and(let parts):
            doc.append("$and", array: parts.map { Self.filter($0, scalar: scalar) })
        case .or(let parts):
            doc.append("$or", array: parts.map { Self.filter($0, scalar: scalar) })
        case .compare(let path, let op, let value):
            let condition = operand("$" + op.rawValue, value, path)
            if op != .ne, scalar.contains(path) { condition.append("$not", document: notAnArray) }
            doc.append(field(path), document: condition)
        case .isIn(let path, let values):
            let condition = operand("$in", .array(values), path)
            if scalar.contains(path) { condition.append("$not", document: notAnArray) }
            doc.append(field(path), document: condition)
        case .notIn(let path, let values):
            doc.append(field(path), document: operand("$nin", .array(values), path))
        case .exists(let path, let present):
            doc.append(field(path), document: BSONDocument(JSONObject([("$exists", .bool(present))])))
        }
    }

    /// `{$type: "array"}`, for `$not`: the field itself is an array.
    private static var notAnArray: BSONDocument { BSONDocument(JSONObject([("$type", .string("array"))])) }

    /// `{op: value}`; on `id`, ids in ObjectId shape are compared as ObjectIds, as stored.
    private static func operand(_ op: String, _ value: JSON, _ path: FieldPath) -> BSONDocument {
        let doc = BSONDocument()
        if path.components == ["id"] { doc.appendIDOperand(op, value) } else { doc.append(op, value) }
        return doc
    }

    /// `{field: ±1, …, _c: 1}`: the sort keys, then creation order.
    static func sort(_ keys: [SortKey]) -> BSONDocument {
        var members = keys.map { (key: field($0.path), value: JSON.int($0.descending ? -1 : 1)) }
        members.append((creationField, .int(1)))
        return BSONDocument(JSONObject(members))
    }
}
