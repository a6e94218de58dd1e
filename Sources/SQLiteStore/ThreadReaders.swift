import Foundation
import GRDB
import Synchronization

/// A read-only connection per server thread. Reading through `DatabasePool` took several
/// dispatch-queue hops and semaphore rounds per request (about a quarter of the CPU of
/// a `GET /todos/{id}` in profiles); a connection owned by the calling thread needs one.
/// libmicrohttpd's pool has a fixed, small set of threads; callers past `capacity`
/// distinct threads (dispatch workers) fall back to the pool.
final class ThreadReaders: Sendable {
    private let path: String
    private let configuration: Configuration
    private let readers = Mutex<[UInt: DatabaseQueue]>([:])
    private let capacity: Int

    init(path: String, configuration: Configuration, capacity: Int) {
        self.path = path
        var configuration = configuration
        configuration.readonly = true
        self.configuration = configuration
        self.capacity = capacity
    }

    /// This thread's connection, opened on first use; nil past `capacity` threads.
    func reader() -> DatabaseQueue? {
        let thread = UInt(pthread_self())
        if let queue = readers.withLock({ $0[thread] }) { return queue }
        guard readers.withLock({ $0.count }) < capacity,
            let queue = try? DatabaseQueue(path: path, configuration: configuration)
        else { return nil }
        return readers.withLock { readers in
            if readers.count >= capacity { return nil }
            readers[thread] = queue
            return queue
        }
    }
}
