import BackboneSSE
import DocumentStore

/// One line (or source document) an import refuses, and why.
public struct ImportFailure: Sendable, Equatable, CustomStringConvertible {
    public let line: Int
    public let message: String

    public init(line: Int, message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { "line \(line): \(message)" }
}

/// The first phase of an import: every document is checked — a line that is an export
/// line, of a collection of the config, a stored document that fits its schema
/// (`CollectionConfig.storedDocumentIssues`), with an id that no earlier line and no
/// document already in the store has — and those that pass are spooled. Nothing is
/// written to the store here.
public final class ImportStaging {
    private let collections: [String: CollectionConfig]
    private let store: any BulkTransfer
    let spool: Spool
    /// Ids seen so far, per collection.
    private var seen: [String: Set<String>] = [:]
    /// Collections that already hold documents: ids are looked up there, a batch at a time.
    private let occupied: Set<String>
    private var pending: [String: [(line: Int, document: StoredDocument)]] = [:]
    private let maxReported: Int
    /// The first `maxReported` failures, in line order.
    public private(set) var failures: [ImportFailure] = []
    public private(set) var failureCount = 0

    public init(config: AppConfig, store: any BulkTransfer, maxReported: Int = 1000) throws {
        var byName: [String: CollectionConfig] = [:]
        var occupied: Set<String> = []
        for collection in config.collections {
            byName[collection.name] = collection
            if try store.count(collection.name) > 0 { occupied.insert(collection.name) }
        }
        self.collections = byName
        self.occupied = occupied
        self.store = store
        self.maxReported = maxReported
        spool = try Spool()
    }

    /// Documents that passed so far.
    public var accepted: Int { spool.count + pending.values.reduce(0) { $0 + $1.count } }

    /// A document line of an export file.
    public func add(line: Int, bytes: [UInt8]) throws {
        switch ExportLine.parse(bytes) {
        case .failure(let error): fail(line, error.message)
        case .success(let parsed): try add(line: line, collection: parsed.collection, document: parsed.document)
        }
    }

    public func add(line: Int, collection: String, document: JSONObject) throws {
        guard let config = collections[collection] else {
            fail(line, "collection \"\(collection)\" is not in the config")
            return
        }
        let issues = config.storedDocumentIssues(document)
        guard issues.isEmpty else {
            let name = document["id"]?.stringValue.map { "\(collection)/\($0)" } ?? collection
            fail(line, "\(name): " + issues.map { "\($0.path.isEmpty ? "/" : $0.path) \($0.message)" }.joined(separator: "; "))
            return
        }
        let id = document["id"]!.stringValue!
        guard seen[collection, default: []].insert(id).inserted else {
            fail(line, "\(collection)/\(id): the id is on an earlier line too")
            return
        }
        guard case .int(let version)? = document["_v"] else { return }
        let stored = StoredDocument(id: id, version: version, json: JSON.object(document).serialized)
        guard occupied.contains(collection) else {
            try spool.append(collection: collection, line: line, document: stored)
            return
        }
        pending[collection, default: []].append((line, stored))
        if pending[collection]!.count >= 1000 { try flush(collection) }
    }

    /// Checks what is still pending; call once, after the last document.
    public func finish() throws {
        for collection in pending.keys.sorted() { try flush(collection) }
        failures.sort { $0.line < $1.line }
    }

    /// Records a line that failed (the first `maxReported` are kept).
    public func fail(_ line: Int, _ message: String) {
        failureCount += 1
        if failures.count < maxReported { failures.append(ImportFailure(line: line, message: message)) }
    }

    private func flush(_ collection: String) throws {
        guard let batch = pending[collection], !batch.isEmpty else { return }
        pending[collection] = []
        let taken = try store.existing(collection, ids: batch.map(\.document.id))
        for (line, document) in batch {
            if taken.contains(document.id) {
                fail(line, "\(collection)/\(document.id): the store already holds a document with this id")
            } else {
                try spool.append(collection: collection, line: line, document: document)
            }
        }
    }
}
