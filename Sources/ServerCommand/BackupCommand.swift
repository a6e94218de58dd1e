import ArgumentParser
import SQLiteStore

/// `backbone-sse backup`: a consistent copy of a live SQLite store, taken with SQLite's
/// online backup API from this separate process while the server goes on serving.
struct BackupCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a SQLite store, live, to a new file (consistent; the server is not paused).",
        discussion:
            "Never copy the file itself: its latest writes may still be in the -wal file. For MongoDB use mongodump (docs/operations.md).")

    @Option(help: "The store: sqlite:PATH.")
    var store: String

    @Option(help: "The backup file to write (must not exist).")
    var to: String

    func run() throws {
        try CommandLog.running("backup") {
            let path = try SQLiteURL.path(store, flag: "--store", use: "mongodump (see docs/operations.md)")
            let summary = try SQLiteBackup.backup(from: path, to: to)
            CommandLog.say("backup: wrote \(to): epoch \(summary.epoch), head \(summary.epoch)-\(summary.head), \(summary.bytes) bytes")
        }
    }
}
