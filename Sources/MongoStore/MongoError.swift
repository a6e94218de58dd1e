import CMongoc
import DocumentStore

/// libmongoc's errors, in one place, as the store-neutral `StoreError`.
struct MongoError: Error, CustomStringConvertible {
    enum Kind {
        /// The server is down, unreachable, or not answering in time: retry later.
        case unavailable
        /// Duplicate key (server code 11000).
        case duplicateKey
        /// A read ran past its `maxTimeMS` and the server stopped it (code 50).
        case overBudget
        /// Anything else the server or the driver refused.
        case failed
    }

    let kind: Kind
    let code: UInt32
    let message: String
    /// For a duplicate key: the indexed field (`_id` for the document id).
    var field: String?

    /// Reads a `bson_error_t` (error API version 2: server errors in the server domain).
    init(_ error: bson_error_t) {
        var error = error
        let text = withUnsafeBytes(of: &error.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        code = error.code
        message = text
        if error.code == 11000 || error.code == 11001 {
            kind = .duplicateKey
        } else if error.code == Self.maxTimeMSExpired, error.domain == UInt32(MONGOC_ERROR_SERVER.rawValue) {
            kind = .overBudget
        } else if error.domain == UInt32(MONGOC_ERROR_SERVER_SELECTION.rawValue)
            || error.domain == UInt32(MONGOC_ERROR_STREAM.rawValue)
            || error.domain == UInt32(MONGOC_ERROR_CLIENT.rawValue)
        {
            kind = .unavailable
        } else {
            kind = .failed
        }
        if kind == .duplicateKey { field = Self.duplicateField(in: text) }
    }

    init(_ kind: Kind, _ message: String, code: UInt32 = 0) {
        self.kind = kind
        self.code = code
        self.message = message
    }

    var description: String { "MongoDB error \(code): \(message)" }

    /// The server's code for an operation stopped by its `maxTimeMS`.
    static let maxTimeMSExpired: UInt32 = 50

    /// A write error of a write command's reply: `{index, code, errmsg, keyPattern?}`.
    init(writeError: JSONObject) {
        let code = UInt32(clamping: Int(writeError["code"]?.numberValue ?? 0))
        let message = writeError["errmsg"]?.stringValue ?? "write error"
        self.init(code == 11000 || code == 11001 ? .duplicateKey : .failed, message, code: code)
        if kind == .duplicateKey {
            field = writeError["keyPattern"]?.objectValue?.keys.first ?? Self.duplicateField(in: message)
        }
    }

    /// The field of `… index: ux_slug dup key: { slug: "milk" }`, the server's message
    /// format (before 4.2 the key has no field name: the index name tells).
    static func duplicateField(in message: String) -> String? {
        if let range = message.range(of: "index: ux_") {
            let name = message[range.upperBound...].prefix { $0 != " " }
            if !name.isEmpty { return String(name) }
        }
        guard let range = message.range(of: "dup key: { ") else { return nil }
        let name = message[range.upperBound...].prefix { $0 != ":" && $0 != " " }
        return name.isEmpty ? nil : String(name)
    }

    var storeError: StoreError {
        switch kind {
        case .unavailable: return .unavailable(message)
        case .duplicateKey:
            if let field, field != "_id" { return .uniqueViolation(field: field) }
            return .duplicateID
        case .overBudget: return .overBudget
        case .failed: return .internalError(description)
        }
    }
}
