import DocumentStore
import Logging

/// Documents already stored that their collection's schema would now refuse: a schema
/// made stricter since they were written (a restart, a SIGHUP). Left alone they are
/// served as they are, but the first PATCH that touches one is 422 for a field the
/// user did not send; the operator learns of them at start instead.
///
/// The oldest `sample` documents of each collection are checked (the oldest are the
/// likeliest to predate a change); past that the count is an estimate, and says so.
struct SchemaAudit {
    static let sample = 10_000

    struct Finding: Equatable {
        let collection: String
        /// Of the documents examined.
        let refused: Int
        let examined: Int
        /// Documents in the collection, when more than were examined.
        let total: Int?
        /// What the first refused one was refused for.
        let example: String

        /// The count over the whole collection (scaled from the sample when sampled).
        var estimate: Int {
            guard let total, examined > 0 else { return refused }
            return Int((Double(refused) * Double(total) / Double(examined)).rounded())
        }
    }

    /// The collections with refused documents; a store that cannot be read is skipped
    /// (its trouble shows elsewhere).
    static func run(_ services: [CollectionService], store: any DocumentStore, sample: Int = sample) -> [Finding] {
        services.compactMap { service -> Finding? in
            // No schema: nothing to refuse, nothing to read.
            guard service.config.schema !== Schema.any,
                let page = try? store.list(service.name, query: ListQuery(limit: sample))
            else { return nil }
            var refused = 0
            var example = ""
            for stored in page.documents {
                let issues = service.checked(stored.parsed()).issues
                guard let first = issues.first else { continue }
                if refused == 0 { example = "\(stored.id): \(first.path.isEmpty ? "" : first.path + ": ")\(first.message)" }
                refused += 1
            }
            guard refused > 0 else { return nil }
            return Finding(
                collection: service.name, refused: refused, examined: page.documents.count, total: page.total, example: example)
        }
    }

    static func log(_ findings: [Finding], logger: Logger) {
        for finding in findings {
            let count = finding.total == nil ? "\(finding.refused)" : "about \(finding.estimate) (estimated)"
            logger.warning(
                "stored documents the collection's schema refuses: a write to one of them will be 422 until it is fixed",
                metadata: [
                    "collection": "\(finding.collection)", "refused": "\(count)",
                    "examined": "\(finding.examined)\(finding.total.map { " of \($0)" } ?? "")", "example": "\(finding.example)",
                ])
        }
    }
}
