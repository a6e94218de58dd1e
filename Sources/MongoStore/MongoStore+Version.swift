import CMongoc

extension MongoStore {
    /// The libmongoc this process runs with (the shared library's, not the headers').
    public static var libraryVersion: String { String(cString: mongoc_get_version()) }
}
