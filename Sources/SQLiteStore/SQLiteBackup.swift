import DocumentStore
import Foundation
import GRDB

/// `backup` and `restore` of a store file through SQLite's online backup API, never by
/// copying files: a copy of a file in WAL mode misses what is still in the `-wal`
/// file (an empty database, or a torn one).
///
/// A backup reads the live file from another process in one read transaction (WAL:
/// the server's writes go on meanwhile, into the WAL), so it holds exactly the
/// documents committed when it began, with the change log and the epoch of that
/// moment. A restore gives the store a new epoch, so that no client resumes over the
/// sequence numbers that the restored log will hand out again.
public enum SQLiteBackup {
    public struct Summary: Sendable, Equatable {
        public let epoch: String
        public let head: Int64
        public let bytes: Int
    }

    public enum Failure: Error, CustomStringConvertible {
        case notAStore(String)
        case exists(String)
        case damaged(String, String)

        public var description: String {
            switch self {
            case .notAStore(let path): return "\(path) is not a backbone-sse SQLite store"
            case .exists(let path): return "\(path) already exists (remove it, or name another file)"
            case .damaged(let path, let why): return "\(path) failed SQLite's integrity check: \(why)"
            }
        }
    }

    /// Copies the store at `source` (a server may be running on it) to the new file
    /// `destination`, written beside it under another name and renamed when whole.
    public static func backup(from source: String, to destination: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: source) else { throw Failure.notAStore(source) }
        guard !FileManager.default.fileExists(atPath: destination) else { throw Failure.exists(destination) }
        let partial = destination + ".partial"
        try? FileManager.default.removeItem(atPath: partial)
        do {
            let from = try DatabaseQueue(path: source, configuration: configuration())
            _ = try summary(of: from, path: source)
            try copy(from, toNewFile: partial)
            let written = try summary(of: try DatabaseQueue(path: partial, configuration: configuration()), path: partial, check: true)
            try FileManager.default.moveItem(atPath: partial, toPath: destination)
            return written
        } catch {
            try? FileManager.default.removeItem(atPath: partial)
            throw error
        }
    }

    /// Replaces the store at `store` (no server may be running on it) with the backup
    /// at `backup`, under a new epoch. The backup is checked, copied to a scratch file
    /// beside the store and given the new epoch there, then copied over the store in
    /// one step: the store is never left with the backup's own epoch.
    public static func restore(from backup: String, into store: String) throws -> Summary {
        guard FileManager.default.fileExists(atPath: backup) else { throw Failure.notAStore(backup) }
        let scratch = store + ".restoring"
        try? FileManager.default.removeItem(atPath: scratch)
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let from = try DatabaseQueue(path: backup, configuration: configuration())
        let old = try summary(of: from, path: backup, check: true)
        try copy(from, toNewFile: scratch)
        let staged = try DatabaseQueue(path: scratch, configuration: configuration())
        let epoch = randomEpoch(not: old.epoch)
        try staged.write { db in try db.execute(sql: "UPDATE meta SET value = ? WHERE key = 'epoch'", arguments: [epoch]) }
        let target = try DatabaseQueue(path: store, configuration: configuration())
        try staged.backup(to: target)
        return try summary(of: target, path: store)
    }

    private static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        return configuration
    }

    private static func copy(_ from: DatabaseQueue, toNewFile path: String) throws {
        let to = try DatabaseQueue(path: path, configuration: configuration())
        try from.backup(to: to)
    }

    /// The epoch and head of a store file; with `check`, SQLite's quick_check first.
    private static func summary(of db: DatabaseQueue, path: String, check: Bool = false) throws -> Summary {
        try db.read { db in
            if check {
                let result = try String.fetchOne(db, sql: "PRAGMA quick_check") ?? "no answer"
                guard result == "ok" else { throw Failure.damaged(path, result) }
            }
            guard try db.tableExists("meta"), let epoch = try? SQLiteStore.storedEpoch(db), !epoch.isEmpty else {
                throw Failure.notAStore(path)
            }
            let head: Int64
            if try db.tableExists("log_state") {
                head = try ChangeLogTables.head(db)
            } else if try db.tableExists("changes") {  // written before the log's generations
                head = try ChangeLogTables.singleTableHead(db)
            } else {
                throw Failure.notAStore(path)
            }
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 0
            return Summary(epoch: epoch, head: head, bytes: pages * size)
        }
    }
}
