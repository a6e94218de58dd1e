import CSQLite

/// Process-wide SQLite settings, applied once before the first connection opens.
enum SQLiteSettings {
    /// Without memory statistics, SQLite's allocations stop serializing the server's
    /// threads on one global mutex (see CSQLite/shim.h).
    static let applied: Bool = {
        CSQLite_disable_memory_statistics() == SQLITE_OK
    }()
}
