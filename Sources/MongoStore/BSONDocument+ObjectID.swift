import CMongoc
import DocumentStore

/// Document ids in MongoDB: a 24-lowercase-hex-digit id (the shape `DocumentID`
/// generates) is stored as an ObjectId, any other id as the client's string. Reading
/// an ObjectId gives back the same 24 hex digits, so the mapping is one to one.
extension BSONDocument {
    static func isObjectIDText(_ id: String) -> Bool {
        let utf8 = id.utf8
        return utf8.count == 24 && utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    /// Appends a document id: an ObjectId or a string.
    func appendID(_ key: String, _ id: String) {
        Self.appendID(key, id, to: raw)
    }

    /// Appends a filter operand on `_id`: strings in ObjectId shape become ObjectIds,
    /// arrays element by element; anything else as it is.
    func appendIDOperand(_ key: String, _ value: JSON) {
        switch value {
        case .string(let s):
            Self.appendID(key, s, to: raw)
        case .array(let elements):
            let child = CMongoc_bson_alloc()!
            defer { CMongoc_free(UnsafeMutableRawPointer(child)) }
            _ = bson_append_array_begin(raw, key, Int32(key.utf8.count), child)
            for (i, element) in elements.enumerated() {
                let index = String(i)
                if case .string(let s) = element {
                    Self.appendID(index, s, to: child)
                } else {
                    let one = BSONDocument(JSONObject([(index, element)]))
                    _ = bson_concat(child, one.raw)
                }
            }
            _ = bson_append_array_end(raw, child)
        default:
            append(key, value)
        }
    }

    private static func appendID(_ key: String, _ id: String, to doc: OpaquePointer) {
        if isObjectIDText(id) {
            var oid = bson_oid_t()
            bson_oid_init_from_string(&oid, id)
            _ = bson_append_oid(doc, key, Int32(key.utf8.count), &oid)
        } else {
            _ = bson_append_utf8(doc, key, Int32(key.utf8.count), id, Int32(id.utf8.count))
        }
    }
}
