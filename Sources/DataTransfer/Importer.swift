import DocumentStore

/// A write that failed during an import's second phase (a unique field, say): the
/// whole import is taken back.
public struct ImportWriteFailure: Error, CustomStringConvertible {
    public let line: Int
    public let collection: String
    public let id: String
    public let error: any Error

    public var description: String { "line \(line): \(collection)/\(id): \(error)" }
}

/// The second phase of an import: the spooled documents into the store in one
/// `importDocuments` (all or nothing), which gives the store a new epoch.
public enum Importer {
    /// Writes what `staging` accepted; returns the store's new epoch.
    public static func commit(_ staging: ImportStaging, into store: any BulkTransfer, progress: ProgressReporter) throws -> String {
        try store.importDocuments { insert in
            try staging.spool.forEach { collection, line, document in
                do {
                    try insert(collection, document)
                } catch {
                    throw ImportWriteFailure(line: line, collection: collection, id: document.id, error: error)
                }
                progress.advance()
            }
        }
    }
}
