import CMongoc
import Synchronization

/// Owns libmongoc's client pool. Each call borrows a client for the length of one
/// blocking driver call; callers run on their own threads (the HTTP server's, or the
/// store's writer), never on Swift's cooperative pool.
final class MongoClientPool: @unchecked Sendable {
    // @unchecked: mongoc_client_pool_t is documented thread-safe; clients are used by
    // one thread at a time, between pop and push.
    private let uri: OpaquePointer
    private let pool: OpaquePointer
    let database: String
    /// Commands sent (each `getMore` too): the round trips a benchmark counts.
    let commandsSent = Atomic<Int>(0)
    /// The same, by command name (`find`, `getMore`, `insert`, …).
    let commandsByName = Mutex<[String: Int]>([:])

    private static let initialized: Bool = {
        mongoc_init()
        CMongoc_quiet_logs()
        return true
    }()

    /// `mongodb://host:port/db`: any connection string libmongoc takes, with a database.
    init(_ connectionString: String) throws(MongoError) {
        _ = Self.initialized
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(connectionString, &error) else { throw MongoError(error) }
        guard let name = mongoc_uri_get_database(uri), name.pointee != 0 else {
            mongoc_uri_destroy(uri)
            throw MongoError(.failed, "the connection string names no database: mongodb://host:port/DATABASE")
        }
        database = String(cString: name)
        // Fail fast while the server is away: requests then get 503 at once instead of
        // waiting out libmongoc's 30 s server selection, or its 5 min socket timeout when
        // a connected server stops answering. The connection string may say otherwise.
        for (option, milliseconds) in [
            (MONGOC_URI_SERVERSELECTIONTIMEOUTMS, Int32(2000)), (MONGOC_URI_CONNECTTIMEOUTMS, 2000),
            (MONGOC_URI_SOCKETTIMEOUTMS, 10000),
        ] where !mongoc_uri_has_option(uri, option) {
            _ = mongoc_uri_set_option_as_int32(uri, option, milliseconds)
        }
        guard let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            mongoc_uri_destroy(uri)
            throw MongoError(error)
        }
        _ = mongoc_client_pool_set_error_api(pool, 2)
        self.uri = uri
        self.pool = pool
    }

    deinit {
        mongoc_client_pool_destroy(pool)
        mongoc_uri_destroy(uri)
    }

    func withClient<T>(_ body: (OpaquePointer) throws(MongoError) -> T) throws(MongoError) -> T {
        guard let client = mongoc_client_pool_pop(pool) else { throw MongoError(.unavailable, "no client available") }
        defer { mongoc_client_pool_push(pool, client) }
        return try body(client)
    }

    /// Runs a database command and returns its reply.
    func command(_ command: BSONDocument) throws(MongoError) -> BSONDocument {
        guard !command.incomplete else {
            throw MongoError(.failed, "a document could not be written as BSON (past 16 MiB, or a NUL in a member name)")
        }
        return try withClient { (client) throws(MongoError) -> BSONDocument in
            let reply = CMongoc_bson_alloc()!
            defer {
                bson_destroy(reply)
                CMongoc_free(UnsafeMutableRawPointer(reply))
            }
            var error = bson_error_t()
            commandsSent.add(1, ordering: .relaxed)
            let name = command.firstKey ?? "?"
            commandsByName.withLock { $0[name, default: 0] += 1 }
            let ok = mongoc_client_command_simple(client, database, command.raw, nil, reply, &error)
            let copy = BSONDocument.copy(of: reply)
            guard ok else { throw MongoError(error) }
            return copy
        }
    }
}
