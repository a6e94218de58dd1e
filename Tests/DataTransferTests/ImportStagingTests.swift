import BackboneSSE
import DocumentStore
import Foundation
import SQLiteStore
import Testing

@testable import DataTransfer

/// An import checks every line before it writes anything, then writes all in one step
/// under a new epoch: on a real SQLite store in a scratch folder.
@Suite struct ImportStagingTests {
    static let config = try! ConfigLoader.parse(
        """
        collections:
          todos:
            unique: [slug]
            schema:
              type: object
              required: [title]
              properties:
                title: {type: string}
                slug: {type: string}
        """)

    static func store() throws -> SQLiteStore {
        let path = NSTemporaryDirectory() + "staging-\(UUID().uuidString).sqlite"
        let store = try SQLiteStore(path: path, logger: .init(label: "test"))
        try store.prepare(config.collections.map(\.layout))
        return store
    }

    static func line(_ id: String, title: String? = "t", slug: String? = nil, v: Int = 1) -> [UInt8] {
        var doc = JSONObject([("id", .string(id))])
        if let title { doc["title"] = .string(title) }
        if let slug { doc["slug"] = .string(slug) }
        doc["_v"] = .int(Int64(v))
        return Array(#"{"collection":"todos","doc":\#(JSON.object(doc).serialized)}"#.utf8)
    }

    static func ids(_ store: SQLiteStore) throws -> [String] {
        var ids: [String] = []
        try store.exportDocuments(["todos"], start: { _ in }, batch: { _, docs in ids += docs.map(\.id) })
        return ids
    }

    @Test func failingLinesAreReportedByNumberAndNothingIsWritten() throws {
        let store = try Self.store()
        let staging = try ImportStaging(config: Self.config, store: store)
        try staging.add(line: 2, bytes: Self.line("a"))
        try staging.add(line: 3, bytes: Self.line("b", title: nil))
        try staging.add(line: 4, bytes: Self.line("a"))
        try staging.add(line: 5, bytes: Array(#"{"collection":"nope","doc":{}}"#.utf8))
        try staging.finish()
        #expect(
            staging.failures == [
                ImportFailure(line: 3, message: "todos/b: /title is required"),
                ImportFailure(line: 4, message: "todos/a: the id is on an earlier line too"),
                ImportFailure(line: 5, message: #"collection "nope" is not in the config"#),
            ])
        #expect(staging.accepted == 1)
        #expect(try Self.ids(store).isEmpty)
    }

    @Test func theDocumentsGoInAsTheyAreUnderANewEpoch() throws {
        let store = try Self.store()
        let before = try store.head()
        let staging = try ImportStaging(config: Self.config, store: store)
        try staging.add(line: 2, bytes: Self.line("a", v: 7))
        try staging.add(line: 3, bytes: Self.line("b"))
        try staging.finish()
        let epoch = try Importer.commit(staging, into: store, progress: ProgressReporter(label: "test"))
        #expect(epoch != before.epoch)
        #expect(try Self.ids(store) == ["a", "b"])
        #expect(try store.get("todos", id: "a")?.version == 7)
        let reopened = try SQLiteStore(path: store.path, logger: .init(label: "test"))
        #expect(reopened.epoch == epoch)
        #expect(try reopened.head().sequence == before.sequence)
    }

    @Test func idsTheStoreHoldsAreRefused() throws {
        let store = try Self.store()
        let first = try ImportStaging(config: Self.config, store: store)
        try first.add(line: 2, bytes: Self.line("a"))
        try first.finish()
        _ = try Importer.commit(first, into: store, progress: ProgressReporter(label: "test"))
        let second = try ImportStaging(config: Self.config, store: store)
        try second.add(line: 2, bytes: Self.line("a"))
        try second.add(line: 3, bytes: Self.line("c"))
        try second.finish()
        #expect(second.failures == [ImportFailure(line: 2, message: "todos/a: the store already holds a document with this id")])
        #expect(second.accepted == 1)
    }

    @Test func aWriteThatFailsTakesBackTheWholeImport() throws {
        let store = try Self.store()
        let epoch = store.epoch
        let staging = try ImportStaging(config: Self.config, store: store)
        try staging.add(line: 2, bytes: Self.line("a", slug: "same"))
        try staging.add(line: 3, bytes: Self.line("b", slug: "same"))
        try staging.finish()
        #expect(staging.failures.isEmpty)
        let failure = #expect(throws: ImportWriteFailure.self) {
            try Importer.commit(staging, into: store, progress: ProgressReporter(label: "test"))
        }
        #expect(failure?.description == "line 3: todos/b: unique field slug already holds this value")
        #expect(try Self.ids(store).isEmpty)
        #expect(try SQLiteStore(path: store.path, logger: .init(label: "test")).epoch == epoch)
    }
}
