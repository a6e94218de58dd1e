import CSQLite
import GRDB

/// A time limit on one connection's statements: SQLite's progress handler stops a
/// statement still running past it with `SQLITE_INTERRUPT`, so that a list too slow for
/// a server thread gives the thread back (the service runs it again elsewhere).
///
/// Used only inside the connection's serialized access, as the connection itself is:
/// hence `@unchecked Sendable`. Lives as long as the connection (its handler reads it).
final class ReadDeadline: @unchecked Sendable {
    /// Monotonic nanoseconds; 0: no limit.
    private let nanoseconds = UnsafeMutablePointer<UInt64>.allocate(capacity: 1)

    init(on connection: SQLiteConnection?) {
        nanoseconds.initialize(to: 0)
        if let connection { CSQLite_install_deadline(connection, nanoseconds) }
    }

    deinit {
        nanoseconds.deallocate()
    }

    /// Runs `body` with its statements stopped once `budget` has passed (nil: no limit).
    func within<T>(_ budget: Duration?, _ body: () throws -> T) rethrows -> T {
        guard let budget else { return try body() }
        nanoseconds.pointee = CSQLite_monotonic_nanoseconds() + UInt64(max(1, budget / .nanoseconds(1)))
        defer { nanoseconds.pointee = 0 }
        return try body()
    }
}
