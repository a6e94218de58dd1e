import CSQLite

extension SQLiteStore {
    /// The SQLite this process runs with (the shared library's, not the headers').
    public static var libraryVersion: String { String(cString: sqlite3_libversion()) }
}
