import HTTPServer
import SQLiteStore
import Synchronization

/// The C libraries this executable runs with, for `version`: the ones every executable
/// links, and those an executable registers (the MongoDB sibling: libmongoc, hiredis).
public enum LinkedLibraries {
    private static let registered = Mutex<[(name: String, version: String)]>([])

    /// Adds libraries to the report (before the command runs).
    public static func register(_ name: String, _ version: String) {
        registered.withLock { $0.append((name, version)) }
    }

    static var all: [(name: String, version: String)] {
        [("libmicrohttpd", MicroHTTPDServer.libraryVersion), ("SQLite", SQLiteStore.libraryVersion)]
            + registered.withLock { $0 }
    }

    /// Whether this executable has the MongoDB store's library.
    static var hasMongoDB: Bool { registered.withLock { $0.contains { $0.name == "libmongoc" } } }
}
