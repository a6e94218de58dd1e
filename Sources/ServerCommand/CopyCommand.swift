import ArgumentParser
import DataTransfer
import DocumentStore

/// `backbone-sse copy --from URL --to URL`: an export of one store read straight into
/// another, with the checks of `import` (from SQLite to MongoDB, say).
struct CopyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy every document of one store into another (as export and import do, without a file); the target gets a new epoch.")

    @Option(help: "The store to read: sqlite:PATH or mongodb://HOST[:PORT]/DATABASE.")
    var from: String

    @Option(help: "The store to write (made when missing); no server may be running on it.")
    var to: String

    @Option(help: "The collections file both stores are served with.")
    var config: String

    @Flag(help: "Copy the documents that pass and skip those that fail, instead of writing nothing.")
    var skipInvalid = false

    func run() throws {
        try StoreAccess.handOverIfNeeded([from, to])
        try CommandLog.running("copy") {
            guard from != to else { throw CommandFailure.usage("--from and --to name the same store") }
            let appConfig = try StoreAccess.config(config)
            let layouts = appConfig.collections.map(\.layout)
            let names = appConfig.collections.map(\.name)
            let source = try StoreAccess.open(from, flag: "--from", collections: layouts, use: .read)
            let target = try StoreAccess.open(to, flag: "--to", collections: layouts, use: .write(create: true))
            let staging = try ImportStaging(config: appConfig, store: target)
            let total = try names.reduce(0) { $0 + (try source.count($1)) }
            let reading = ProgressReporter(label: "copy (reading)", total: total)
            var position = 0
            try source.exportDocuments(
                names, start: { _ in },
                batch: { collection, documents in
                    for document in documents {
                        position += 1
                        try staging.add(line: position, collection: collection, document: document.parsed())
                    }
                    reading.advance(by: documents.count)
                })
            try staging.finish()
            reading.finish("read")
            try TransferReport.commit(staging, into: target, skipInvalid: skipInvalid, unit: "document", verb: "copy", done: "copied")
        }
    }
}
