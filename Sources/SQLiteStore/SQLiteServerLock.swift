import DocumentStore
import Foundation

/// One server per SQLite file. Two servers on one file would each believe its own
/// commits are the whole change log: each one's streams would miss the other's writes,
/// and both would hand out the same sequence numbers. A server therefore holds an
/// exclusive `flock` on `<file>.lock` for its lifetime (the kernel lets go when the
/// process ends, however it ends), and writes its pid there for the next one's message.
///
/// A separate file, not the database: SQLite's own locks are POSIX record locks on the
/// database file, which any `close` of another descriptor of that file would drop.
/// Tools that may run beside a server (`backup`) never take it.
public final class SQLiteServerLock: Sendable {
    private let descriptor: Int32
    /// The lock file.
    public let path: String

    /// Another process holds the lock.
    public struct Held: Error, CustomStringConvertible {
        public let database: String
        /// What the holder wrote: its pid and when it started.
        public let holder: String

        public var description: String {
            "another server (\(holder.isEmpty ? "pid unknown" : holder)) is serving \(database): one server per SQLite file"
        }
    }

    /// The lock of the server of `database`, or `Held` when another process has it.
    public static func acquire(database: String) throws -> SQLiteServerLock {
        let path = database + ".lock"
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw CocoaError(.fileWriteNoPermission, userInfo: [NSFilePathErrorKey: path, "errno": errno])
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let holder = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            close(descriptor)
            throw Held(database: database, holder: holder.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        // DateTime, not ISO8601DateFormatter: that one loads ICU's data, 11 MB of every
        // server's resident memory, for one timestamp.
        let note = "pid \(getpid()), started \(DateTime.string(Date()))\n"
        let file = FileHandle(fileDescriptor: descriptor, closeOnDealloc: false)
        try? file.truncate(atOffset: 0)
        try? file.write(contentsOf: Data(note.utf8))
        return SQLiteServerLock(descriptor: descriptor, path: path)
    }

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }
}
