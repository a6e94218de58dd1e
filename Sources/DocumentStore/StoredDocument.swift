/// A document as stored: its id, its version `_v`, and its JSON text (which includes
/// `id` and `_v`, so it can be sent as it is).
public struct StoredDocument: Sendable, Equatable {
    public let id: String
    public let version: Int64
    public let json: String

    public init(id: String, version: Int64, json: String) {
        self.id = id
        self.version = version
        self.json = json
    }

    /// The parsed document. Stored text was written by the server, so it parses.
    public func parsed() -> JSONObject {
        (try? JSONParser.parse(json))?.objectValue ?? JSONObject()
    }
}

/// One page of a list, with the change-log position it reflects.
public struct ListResult: Sendable {
    public let documents: [StoredDocument]
    /// Set when more documents match than were returned (skip and limit applied).
    public let total: Int?
    /// The newest change already reflected in `documents`.
    public let cursor: ChangeCursor

    public init(documents: [StoredDocument], total: Int?, cursor: ChangeCursor) {
        self.documents = documents
        self.total = total
        self.cursor = cursor
    }
}
