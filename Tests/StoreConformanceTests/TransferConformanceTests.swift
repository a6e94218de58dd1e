import DocumentStore
import Foundation
import Testing

/// What `export`, `import`, `copy` and `restore --epoch-only` need of every store
/// (`BulkTransfer`): documents in creation order with the head they reflect, bulk
/// inserts kept as they are and all or nothing, and a new epoch.
@Suite struct TransferConformanceTests {
    static func transfer(_ store: any DocumentStore) throws -> any BulkTransfer {
        try #require(store as? any BulkTransfer)
    }

    static func exported(_ store: any BulkTransfer) throws -> (head: ChangeCursor, documents: [String]) {
        var head = ChangeCursor(epoch: "", sequence: -1)
        var documents: [String] = []
        try store.exportDocuments(
            ["todos", "lists"], start: { head = $0 },
            batch: { collection, batch in documents += batch.map { "\(collection)/\($0.id)@\($0.version)" } })
        return (head, documents)
    }

    static func stored(_ id: String, version: Int64, slug: String? = nil) -> StoredDocument {
        var document = JSONObject([("id", .string(id)), ("title", .string(id))])
        if let slug { document["slug"] = .string(slug) }
        document["_v"] = .int(version)
        return StoredDocument(id: id, version: version, json: JSON.object(document).serialized)
    }

    @Test(arguments: StoreKind.allCases) func anExportHasEveryDocumentInCreationOrderAndItsHead(_ kind: StoreKind) throws {
        let store = try Self.transfer(try StoreFixture(kind).store)
        for id in ["c", "a", "b"] { try insert(store, #"{"id":"\#(id)"}"#) }
        try insert(store, #"{"id":"l1"}"#, collection: "lists")
        let (head, documents) = try Self.exported(store)
        #expect(head == (try store.head()))
        #expect(documents == ["todos/c@1", "todos/a@1", "todos/b@1", "lists/l1@1"])
        #expect(try store.count("todos") == 3)
        #expect(Set(try store.collectionNames()) == ["todos", "lists"])
        #expect(try store.existing("todos", ids: ["a", "zz", "l1", "65f0a1b2c3d4e5f601234567"]) == ["a"])
    }

    @Test(arguments: StoreKind.allCases) func importedDocumentsKeepTheirVersionsUnderANewEpoch(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = try Self.transfer(fixture.store)
        try insert(store, #"{"id":"a"}"#)
        let before = try store.head()
        let epoch = try store.importDocuments { insert in
            try insert("todos", Self.stored("65f0a1b2c3d4e5f601234567", version: 5))
            try insert("todos", Self.stored("b", version: 2))
        }
        #expect(epoch != before.epoch)
        let reopened = try Self.transfer(try fixture.reopen())
        let head = try reopened.head()
        #expect(head.epoch == epoch)
        #expect(try reopened.get("todos", id: "b")?.version == 2)
        // Nothing was logged for them; a document created later lists after them.
        #expect(try reopened.changes(after: before.sequence, limit: 10).isEmpty)
        let later = try insert(reopened, #"{"id":"z"}"#)
        #expect(later.cursor.epoch == epoch && later.change.sequence > head.sequence)
        #expect(try Self.exported(reopened).documents == ["todos/a@1", "todos/65f0a1b2c3d4e5f601234567@5", "todos/b@2", "todos/z@1"])
    }

    @Test(arguments: StoreKind.allCases) func aFailedImportLeavesNothingAndTheEpoch(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = try Self.transfer(fixture.store)
        let epoch = try store.head().epoch
        let failure = #expect(throws: BulkInsertError.self) {
            try store.importDocuments { insert in
                // Small: the test double is shared by the tests running beside this one.
                // (The integration suite imports 1100, past MongoDB's batches of 1000.)
                for i in 0..<20 { try insert("todos", Self.stored("i\(i)", version: 1, slug: "s\(i)")) }
                try insert("todos", Self.stored("late", version: 1, slug: "s7"))
            }
        }
        #expect(failure?.id == "late")
        #expect(failure.map { "\($0.error)" } == "unique field slug already holds this value")
        #expect(try store.count("todos") == 0)
        #expect(try fixture.reopen().head().epoch == epoch)
    }

    @Test(arguments: StoreKind.allCases) func aNewEpochResetsEveryCursor(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let store = try Self.transfer(fixture.store)
        try insert(store, #"{"id":"a"}"#)
        let before = try store.head()
        let epoch = try store.renewEpoch()
        #expect(epoch != before.epoch)
        let after = try fixture.reopen().head()
        #expect(after == ChangeCursor(epoch: epoch, sequence: before.sequence))
    }

    /// `export` may run beside a server with another config: attaching makes no index
    /// and drops none (`prepare` would drop the unique index on `slug` here).
    @Test(arguments: StoreKind.allCases) func attachingChangesNoIndex(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let other = try Self.transfer(try fixture.reopen())
        try other.attach([CollectionLayout(name: "todos", indexes: [], unique: [], scalarPaths: [])])
        #expect(try other.count("todos") == 0)
        try insert(fixture.store, #"{"id":"a","slug":"x"}"#)
        #expect(throws: StoreError.self) { try insert(fixture.store, #"{"id":"b","slug":"x"}"#) }
    }
}
