import ArgumentParser
import DocumentStore
import Foundation
import Logging
import Synchronization

/// How `--store mongodb://…` is opened. libmongoc initializes OpenSSL, SASL and its
/// other libraries when it is loaded (Debian builds it with automatic init): linked into
/// `backbone-sse`, that cost every server, MongoDB or not, about 7 MB of memory. So the
/// MongoDB store lives in a sibling executable, `backbone-sse-mongodb`, which registers
/// the opener; `backbone-sse` given a MongoDB store hands over to it (same process, same
/// arguments: `exec`).
public enum MongoDBStoreOpener {
    /// (connection string, lease seconds, poll seconds, logger) → the store.
    public typealias Open = @Sendable (String, Double, Double, Logger) throws -> any DocumentStore

    private static let registered = Mutex<Open?>(nil)

    public static func register(_ open: @escaping Open) {
        registered.withLock { $0 = open }
    }

    static var current: Open? { registered.withLock { $0 } }

    /// The executable that has the MongoDB store: beside this one.
    static let siblingName = "backbone-sse-mongodb"

    /// Replaces this process with `backbone-sse-mongodb`, same arguments; returns only
    /// by throwing (exit code 1) when that fails.
    static func handOver() throws -> Never {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        let sibling = me.deletingLastPathComponent().appendingPathComponent(siblingName).path
        var arguments = CommandLine.arguments
        arguments[0] = sibling
        let cArguments = arguments.map { strdup($0) } + [nil]
        execv(sibling, cArguments)
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data("backbone-sse: a MongoDB store needs \(sibling) (built beside backbone-sse): \(reason)\n".utf8))
        throw ExitCode(1)
    }
}
