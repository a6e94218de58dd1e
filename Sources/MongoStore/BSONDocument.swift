import CMongoc
import DocumentStore

/// Owns one `bson_t`: built from JSON values with libbson's append calls (never from
/// client JSON text, so no `$` operator a client writes can reach MongoDB), and read
/// back into JSON. Integers stay integers: an Int64 in, an Int64 (or Int32) out.
final class BSONDocument {
    let raw: OpaquePointer
    /// An append failed (libbson refuses a document past its size limit, or a name with
    /// a NUL): the document is not what was meant, and is never sent (`MongoClientPool`).
    private(set) var incomplete = false

    init() {
        raw = bson_new()
    }

    /// Takes ownership of a `bson_t` made by libbson (`bson_new`, `bson_copy`).
    init(owning raw: OpaquePointer) {
        self.raw = raw
    }

    deinit {
        bson_destroy(raw)
    }

    convenience init(_ object: JSONObject) {
        self.init()
        for member in object.members { append(member.key, member.value) }
    }

    /// A copy of a `bson_t` that libmongoc owns (a cursor's current document).
    static func copy(of borrowed: OpaquePointer) -> BSONDocument {
        BSONDocument(owning: bson_copy(borrowed))
    }

    func append(_ key: String, _ value: JSON) {
        if !Self.append(key, value, to: raw) { incomplete = true }
    }

    func append(_ key: String, document: BSONDocument) {
        if document.incomplete || !bson_append_document(raw, key, Int32(key.utf8.count), document.raw) { incomplete = true }
    }

    func append(_ key: String, array: [BSONDocument]) {
        let child = CMongoc_bson_alloc()!
        defer {
            bson_destroy(child)
            CMongoc_free(UnsafeMutableRawPointer(child))
        }
        var ok = bson_append_array_begin(raw, key, Int32(key.utf8.count), child)
        for (i, element) in array.enumerated() {
            let index = String(i)
            ok = ok && !element.incomplete && bson_append_document(child, index, Int32(index.utf8.count), element.raw)
        }
        ok = bson_append_array_end(raw, child) && ok
        if !ok { incomplete = true }
    }

    /// Whether every append succeeded.
    private static func append(_ key: String, _ value: JSON, to doc: OpaquePointer) -> Bool {
        let keyLength = Int32(key.utf8.count)
        switch value {
        case .null:
            return bson_append_null(doc, key, keyLength)
        case .bool(let b):
            return bson_append_bool(doc, key, keyLength, b)
        case .int(let i):
            return bson_append_int64(doc, key, keyLength, i)
        case .double(let d):
            return bson_append_double(doc, key, keyLength, d)
        case .string(let s):
            return bson_append_utf8(doc, key, keyLength, s, Int32(s.utf8.count))
        case .object(let object):
            let child = CMongoc_bson_alloc()!
            defer { CMongoc_free(UnsafeMutableRawPointer(child)) }
            guard bson_append_document_begin(doc, key, keyLength, child) else { return false }
            var ok = true
            for member in object.members where ok { ok = append(member.key, member.value, to: child) }
            return bson_append_document_end(doc, child) && ok
        case .array(let elements):
            let child = CMongoc_bson_alloc()!
            defer { CMongoc_free(UnsafeMutableRawPointer(child)) }
            guard bson_append_array_begin(doc, key, keyLength, child) else { return false }
            var ok = true
            for (i, element) in elements.enumerated() where ok { ok = append(String(i), element, to: child) }
            return bson_append_array_end(doc, child) && ok
        }
    }

    /// The name of the first member: a command's name.
    var firstKey: String? {
        let iter = CMongoc_iter_alloc()!
        defer { CMongoc_free(UnsafeMutableRawPointer(iter)) }
        guard bson_iter_init(iter, raw), bson_iter_next(iter) else { return nil }
        return String(cString: bson_iter_key(iter))
    }

    /// The document as a JSON object. ObjectIds become their 24-hex-digit strings,
    /// dates their Unix milliseconds; types JSON has no room for become null.
    var json: JSONObject {
        let iter = CMongoc_iter_alloc()!
        defer { CMongoc_free(UnsafeMutableRawPointer(iter)) }
        guard bson_iter_init(iter, raw) else { return JSONObject() }
        return Self.readObject(iter)
    }

    private static func readObject(_ iter: OpaquePointer) -> JSONObject {
        var members: [(key: String, value: JSON)] = []
        while bson_iter_next(iter) {
            members.append((String(cString: bson_iter_key(iter)), readValue(iter)))
        }
        return JSONObject(members)
    }

    private static func readValue(_ iter: OpaquePointer) -> JSON {
        switch bson_iter_type(iter) {
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            guard let text = bson_iter_utf8(iter, &length) else { return .null }
            return .string(String(decoding: UnsafeRawBufferPointer(start: text, count: Int(length)), as: UTF8.self))
        case BSON_TYPE_INT32:
            return .int(Int64(bson_iter_int32(iter)))
        case BSON_TYPE_INT64:
            return .int(bson_iter_int64(iter))
        case BSON_TYPE_DOUBLE:
            return .double(bson_iter_double(iter))
        case BSON_TYPE_BOOL:
            return .bool(bson_iter_bool(iter))
        case BSON_TYPE_DOCUMENT, BSON_TYPE_ARRAY:
            let child = CMongoc_iter_alloc()!
            defer { CMongoc_free(UnsafeMutableRawPointer(child)) }
            guard bson_iter_recurse(iter, child) else { return .null }
            let object = readObject(child)
            if bson_iter_type(iter) == BSON_TYPE_ARRAY { return .array(object.members.map(\.value)) }
            return .object(object)
        case BSON_TYPE_OID:
            guard let oid = bson_iter_oid(iter) else { return .null }
            var text = [CChar](repeating: 0, count: 25)
            bson_oid_to_string(oid, &text)
            return .string(String(decoding: text.prefix(24).map { UInt8(bitPattern: $0) }, as: UTF8.self))
        case BSON_TYPE_DATE_TIME:
            return .int(bson_iter_date_time(iter))
        default:
            return .null
        }
    }
}
