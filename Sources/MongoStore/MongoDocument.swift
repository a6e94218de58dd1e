import DocumentStore

/// Documents as MongoDB holds them: `{_id, _c, …fields, _v}`. `_id` is the document id
/// (an ObjectId for ids in ObjectId shape, see `BSONDocument.appendID`), `_c` the
/// creation sequence: the change-log sequence of the write that created the document,
/// hidden from clients, the last sort key of every list (creation order, as SQLite's
/// rowid gives it).
enum MongoDocument {
    static let creationField = MongoQuery.creationField

    /// The BSON to store for a decided document (which carries `id` and `_v`).
    static func bson(_ document: JSONObject, id: String, creation: Int64) -> BSONDocument {
        let doc = BSONDocument()
        doc.appendID("_id", id)
        doc.append(creationField, .int(creation))
        for member in document.members where member.key != "id" {
            doc.append(member.key, member.value)
        }
        return doc
    }

    /// `{_id: id}`.
    static func idFilter(_ id: String) -> BSONDocument {
        let filter = BSONDocument()
        filter.appendID("_id", id)
        return filter
    }

    /// `{_id: id, _v: version}`: the conditional write's filter.
    static func versionFilter(_ id: String, version: Int64) -> BSONDocument {
        let filter = idFilter(id)
        filter.append("_v", .int(version))
        return filter
    }

    /// A found document as the service sees it (`id` first, no `_c`), with its creation
    /// sequence.
    static func stored(_ found: JSONObject) -> (document: StoredDocument, creation: Int64)? {
        guard let id = found["_id"]?.stringValue else { return nil }
        var members: [(key: String, value: JSON)] = [("id", .string(id))]
        members.reserveCapacity(found.count)
        var creation: Int64 = 0
        var version: Int64 = 0
        for member in found.members {
            switch member.key {
            case "_id": continue
            case creationField:
                if case .int(let c) = member.value { creation = c }
                continue
            case "_v":
                if case .int(let v) = member.value { version = v }
            default: break
            }
            members.append(member)
        }
        let json = JSON.object(JSONObject(members)).serialized
        return (StoredDocument(id: id, version: version, json: json), creation)
    }
}
