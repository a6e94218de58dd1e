import DocumentStore
import Foundation
import Logging
import MongoDoubleSupport
import MongoStore
import SQLiteStore
import TestSupport
import Testing

/// The backends every conformance test runs against. MongoStore runs against the
/// MongoDB test double (Tests/mongo), or the real server of MONGODB_URI when set.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, mongodb

    var testDescription: String { rawValue }
}

/// A fresh store of one kind, with the `todos` layout, and how to open it again (a
/// second instance on the same data, as a restart or another server would).
struct StoreFixture {
    let kind: StoreKind
    let store: any DocumentStore
    let location: String

    static let layouts = [
        CollectionLayout(
            name: "todos", indexes: [FieldPath("done")!, FieldPath("owner.name")!], unique: [FieldPath("slug")!],
            scalarPaths: [FieldPath("done")!, FieldPath("title")!, FieldPath("slug")!, FieldPath("owner.name")!]),
        CollectionLayout(name: "lists", indexes: [], unique: [], scalarPaths: []),
    ]

    init(_ kind: StoreKind, lease: Double = 30) throws {
        self.kind = kind
        switch kind {
        case .sqlite:
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("conformance-\(UUID().uuidString)")
            location = dir.appendingPathComponent("app.sqlite").path
        case .mongodb:
            location = MongoDouble.shared.uri()
        }
        store = try Self.open(kind, location, lease: lease)
    }

    /// Another instance on the same data.
    func reopen(lease: Double = 30) throws -> any DocumentStore {
        try Self.open(kind, location, lease: lease)
    }

    private static func open(_ kind: StoreKind, _ location: String, lease: Double) throws -> any DocumentStore {
        let logger = Logger(label: "conformance")
        let store: any DocumentStore
        switch kind {
        case .sqlite: store = try SQLiteStore(path: location, logger: logger)
        case .mongodb: store = try MongoStore(connectionString: location, options: .init(writers: 4, leaseSeconds: lease), logger: logger)
        }
        try store.prepare(layouts)
        return store
    }
}

/// Writes synchronously (stores answer through a callback).
func commit(
    _ store: any DocumentStore, _ id: String, in collection: String = "todos", origin: String? = "test", idIsNew: Bool = false,
    _ decide: @escaping @Sendable (StoredDocument?) throws -> WriteDecision
) -> Result<WriteResult, StoreError> {
    // A decision that throws (a test's own mistake) refuses the write.
    waitFor {
        store.write(
            WriteRequest(collection: collection, id: id, origin: origin, idIsNew: idIsNew, decide: { (try? decide($0)) ?? .refuse }),
            completion: $0)
    }
}

func object(_ json: String) throws -> JSONObject {
    try #require(try JSONParser.parse(json).objectValue)
}

/// Creates a document from its JSON (which carries `id`), at version 1.
@discardableResult
func insert(_ store: any DocumentStore, _ json: String, collection: String = "todos") throws -> WriteResult {
    var document = try object(json)
    let id = try #require(document["id"]?.stringValue)
    document["_v"] = .int(1)
    let created = document
    return try commit(store, id, in: collection) { _ in .insert(created, version: 1) }.get()
}

/// Replaces a document with `changes` merged in, at the next version.
@discardableResult
func update(_ store: any DocumentStore, _ id: String, _ changes: [(String, JSON)]) throws -> WriteResult {
    try commit(store, id) { current in
        guard let current else { throw StoreError.internalError("missing") }
        var document = current.parsed()
        for (key, value) in changes { document[key] = value }
        document["_v"] = .int(current.version + 1)
        return .update(document, version: current.version + 1)
    }.get()
}

final class Collector<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [T] = []
    func append(_ v: T) {
        lock.lock()
        storage.append(v)
        lock.unlock()
    }
    func append(contentsOf v: [T]) {
        lock.lock()
        storage += v
        lock.unlock()
    }
    var values: [T] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

extension Result {
    var failure: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
