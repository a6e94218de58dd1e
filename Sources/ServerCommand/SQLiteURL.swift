import SQLiteStore

/// `sqlite:PATH` store URLs, for the commands that work on the file itself.
enum SQLiteURL {
    /// The path of a `sqlite:PATH` store URL; any other is a usage error naming `use`.
    static func path(_ url: String, flag: String, use: String) throws -> String {
        guard StoreRegistry.scheme(of: url) == "sqlite" else {
            throw CommandFailure.usage("\(flag) \(url): this command is for SQLite stores; for MongoDB use \(use)")
        }
        return String(url.drop { $0 != ":" }.dropFirst())
    }

    /// Refuses (exit 2) a SQLite store that another process has open: a server running
    /// on it would go on with the epoch it started with, over the data put back here.
    static func refuseInUse(_ url: String, flag: String) throws {
        guard StoreRegistry.scheme(of: url) == "sqlite" else { return }
        let path = String(url.drop { $0 != ":" }.dropFirst())
        if let pid = SQLiteFileUse.holder(of: path) {
            throw CommandFailure.usage("\(flag) \(url): process \(pid) has the file open (a server?): stop it first")
        }
    }

    /// The lock a server holds on the store at `path` (`SQLiteServerLock`), so that no
    /// server starts on it while the file is being replaced; usage error when held.
    static func serverLock(_ path: String, flag: String) throws -> SQLiteServerLock {
        do {
            return try SQLiteServerLock.acquire(database: path)
        } catch let held as SQLiteServerLock.Held {
            throw CommandFailure.usage("\(flag) sqlite:\(path): \(held)")
        }
    }
}
