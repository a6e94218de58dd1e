import DocumentStore

/// `export`: the header, then every document of the chosen collections, each in
/// creation order, as JSON Lines (see `ExportHeader`). The stored JSON text is written
/// as it is, never parsed again.
public enum Exporter {
    public struct Summary: Sendable {
        public let head: ChangeCursor
        public let documents: Int
    }

    public static func run(
        from store: any BulkTransfer, collections: [String], declared: JSONObject, to output: ByteOutput, progress: ProgressReporter
    ) throws -> Summary {
        var head = ChangeCursor(epoch: "", sequence: 0)
        var prefixes: [String: [UInt8]] = [:]
        for collection in collections { prefixes[collection] = ExportLine.prefix(collection) }
        let chosen = JSONObject(declared.members.filter { collections.contains($0.key) })
        try store.exportDocuments(
            collections,
            start: { cursor in
                head = cursor
                let line = ExportHeader(epoch: cursor.epoch, head: cursor.sequence, collections: chosen).line
                try output.append { $0.append(contentsOf: line) }
            },
            batch: { collection, documents in
                let prefix = prefixes[collection]!
                try output.append { out in
                    for document in documents { ExportLine.write(prefix: prefix, json: document.json, into: &out) }
                }
                progress.advance(by: documents.count)
            })
        try output.flush()
        return Summary(head: head, documents: progress.count)
    }
}
