import ArgumentParser
import DataTransfer
import Foundation

/// `backbone-sse import`: an export file into a store. Every line is checked first;
/// any failure writes nothing (unless `--skip-invalid`); then the documents go in as
/// they are (ids, `_v`, timestamps) in one all-or-nothing step that gives the store a
/// new epoch.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read an export (JSON Lines) into a store, checked against the config first; the store gets a new epoch.",
        discussion: "Run it with no server on the store: a running server keeps the epoch it started with.")

    @Option(help: "The store: sqlite:PATH or mongodb://HOST[:PORT]/DATABASE (made when missing).")
    var store: String

    @Option(help: "The collections file: documents are checked against its schemas.")
    var config: String

    @Option(help: "Read this file instead of standard input.")
    var file: String?

    @Flag(help: "Import the documents that pass and skip those that fail (which are still listed), instead of writing nothing.")
    var skipInvalid = false

    func run() throws {
        try StoreAccess.handOverIfNeeded([store])
        try CommandLog.running("import") {
            let appConfig = try StoreAccess.config(config)
            let input = try ImportSource(file)
            let target = try StoreAccess.open(
                store, flag: "--store", collections: appConfig.collections.map(\.layout), use: .write(create: true))
            let staging = try ImportStaging(config: appConfig, store: target)
            let checking = ProgressReporter(label: "import (checking)")
            var bytesRead = 0
            if let size = input.size { checking.fraction = { Double(bytesRead) / Double(size) } }
            var header: ExportHeader?
            try LineReader(fd: input.fd).forEach { number, line, read in
                bytesRead = read
                guard header != nil else {
                    switch ExportHeader.parse(line) {
                    case .success(let parsed): header = parsed
                    case .failure(let error): throw CommandFailure.failed("line \(number): \(error)")
                    }
                    return
                }
                try staging.add(line: number, bytes: line)
                checking.advance()
            }
            guard header != nil else { throw CommandFailure.failed("the input is empty (an export starts with its header line)") }
            try staging.finish()
            checking.finish("checked")
            try TransferReport.commit(staging, into: target, skipInvalid: skipInvalid, unit: "line", verb: "import", done: "imported")
        }
    }
}
