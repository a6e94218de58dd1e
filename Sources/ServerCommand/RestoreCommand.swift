import ArgumentParser
import SQLiteStore

/// `backbone-sse restore`: a backup back into place under a new epoch, so that every
/// client's cursor resets instead of resuming over sequence numbers the restored log
/// hands out again; `--epoch-only` gives a store a new epoch in place (MongoDB after
/// mongorestore).
struct RestoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a SQLite store from a backup, under a new epoch (or, with --epoch-only, give any store a new epoch).",
        discussion: "Stop the server first, start it again after.")

    @Option(help: "The backup file (written by backup).")
    var from: String?

    @Option(help: "The store to restore: sqlite:PATH (mongodb://… with --epoch-only).")
    var store: String

    @Flag(help: "Only give the store a new epoch, in place (after mongorestore, say).")
    var epochOnly = false

    func validate() throws {
        if epochOnly, from != nil { throw ValidationError("--epoch-only takes no --from") }
        if !epochOnly, from == nil { throw ValidationError("--from is required (or --epoch-only)") }
    }

    func run() throws {
        if epochOnly { try StoreAccess.handOverIfNeeded([store]) }
        try CommandLog.running("restore") {
            try SQLiteURL.refuseInUse(store, flag: "--store")
            if epochOnly {
                let target = try StoreAccess.open(store, flag: "--store", collections: [], use: .write(create: false))
                let epoch = try target.renewEpoch()
                TransferReport.newEpoch("restore", epoch)
                return
            }
            let path = try SQLiteURL.path(store, flag: "--store", use: "mongorestore, then restore --epoch-only (see docs/operations.md)")
            let lock = try SQLiteURL.serverLock(path, flag: "--store")
            let summary = try withExtendedLifetime(lock) { try SQLiteBackup.restore(from: from!, into: path) }
            CommandLog.say("restore: \(path) now holds \(from!) (head \(summary.head))")
            TransferReport.newEpoch("restore", summary.epoch)
        }
    }
}
