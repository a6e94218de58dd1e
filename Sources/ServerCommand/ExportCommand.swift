import ArgumentParser
import BackboneSSE
import DataTransfer
import DocumentStore
import Foundation

/// `backbone-sse export`: a store's documents as JSON Lines (see `ExportHeader`).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Write every document of a store as JSON Lines (a header line, then one document a line).")

    @Option(help: "The store: sqlite:PATH or mongodb://HOST[:PORT]/DATABASE.")
    var store: String

    @Option(
        help:
            "The collections file the store is served with (its collections, as declared, go into the header); without it, every collection the store holds, declared as {}."
    )
    var config: String?

    @Option(help: "Write here (written beside it and renamed when whole) instead of to standard output.")
    var file: String?

    @Option(help: "Only these collections, comma-separated (default: every collection).")
    var collections: String?

    func run() throws {
        try StoreAccess.handOverIfNeeded([store])
        try CommandLog.running("export") {
            let appConfig = try config.map { try StoreAccess.config($0) }
            let source = try StoreAccess.open(
                store, flag: "--store", collections: appConfig?.collections.map(\.layout) ?? [], use: .read)
            var names: [String]
            let declared: JSONObject
            if let appConfig, let config {
                names = appConfig.collections.map(\.name)
                declared = try ConfigLoader.declaredCollections(path: config)
            } else {
                names = try source.collectionNames()
                try source.attach(names.map { CollectionLayout(name: $0, indexes: [], unique: [], scalarPaths: []) })
                declared = JSONObject(names.map { ($0, .object(JSONObject())) })
            }
            if let collections {
                let wanted = collections.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) }
                for name in wanted where !names.contains(name) {
                    throw CommandFailure.usage("--collections: the store has no collection \(name)")
                }
                names = wanted
            }
            let total = try names.reduce(0) { $0 + (try source.count($1)) }
            let progress = ProgressReporter(label: "export", total: total)
            let target = try ExportTarget(file)
            let summary = try Exporter.run(
                from: source, collections: names, declared: declared, to: ByteOutput(fd: target.fd), progress: progress)
            try target.commit()
            progress.finish("exported")
            CommandLog.say("export: store epoch \(summary.head.epoch), head \(summary.head)")
        }
    }
}
