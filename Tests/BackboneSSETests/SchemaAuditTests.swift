import DocumentStore
import Testing

@testable import BackboneSSE

/// Stored documents a stricter schema would refuse are counted (issue 16): exactly on a
/// small collection, as a labelled estimate past the sample.
@Suite struct SchemaAuditTests {
    static let loose = """
        collections:
          todos:
            schema: {type: object, properties: {title: {type: string}, n: {type: integer}}}
        """
    static let strict = loose.replacingOccurrences(of: "properties:", with: "required: [n], properties:")

    @Test func refusedDocumentsAreCountedAndAnExampleNamed() async throws {
        try await TestApp.run(config: Self.loose) { app in
            for i in 0..<6 {
                _ = try await app.create(i % 3 == 0 ? #"{"title": "with", "n": \#(i)}"# : #"{"title": "without"}"#)
            }
            let store = app.app.store
            let strict = try #require(try ConfigLoader.parse(Self.strict, context: TestTokens.context).collections.first)
            let service = CollectionService(config: strict, store: store)

            let all = SchemaAudit.run([service], store: store)
            #expect(all.count == 1)
            #expect(all.first?.refused == 4 && all.first?.examined == 6 && all.first?.total == nil)
            #expect(all.first?.estimate == 4)
            #expect(all.first?.example.contains("n") == true, "\(all)")

            // Past the sample: the oldest 3 examined (1 of them good), the rest estimated.
            let sampled = try #require(SchemaAudit.run([service], store: store, sample: 3).first)
            #expect(sampled.examined == 3 && sampled.refused == 2 && sampled.total == 6 && sampled.estimate == 4)

            let loose = try #require(try ConfigLoader.parse(Self.loose, context: TestTokens.context).collections.first)
            #expect(SchemaAudit.run([CollectionService(config: loose, store: store)], store: store).isEmpty)
        }
    }
}
