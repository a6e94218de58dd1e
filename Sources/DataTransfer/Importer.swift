import DocumentStore

/// A write that failed during an import's second phase (a unique value two lines
/// share, say): the whole import was taken back.
public struct ImportWriteFailure: Error, CustomStringConvertible {
    /// The line of the document (nil when it could not be told).
    public let line: Int?
    public let error: BulkInsertError

    public var description: String { (line.map { "line \($0): " } ?? "") + error.description }
}

/// The second phase of an import: the spooled documents into the store in one
/// `importDocuments` (all or nothing), which gives the store a new epoch.
public enum Importer {
    /// Writes what `staging` accepted; returns the store's new epoch.
    public static func commit(_ staging: ImportStaging, into store: any BulkTransfer, progress: ProgressReporter) throws -> String {
        do {
            return try store.importDocuments { insert in
                try staging.spool.forEach { collection, _, document in
                    try insert(collection, document)
                    progress.advance()
                }
            }
        } catch let error as BulkInsertError {
            throw ImportWriteFailure(line: try staging.spool.line(of: error.id, in: error.collection), error: error)
        }
    }
}
