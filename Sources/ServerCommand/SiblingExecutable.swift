import ArgumentParser
import Foundation

/// A store whose client library is kept out of `backbone-sse`: libmongoc initializes
/// OpenSSL, SASL and its other libraries when it is loaded (Debian builds it with
/// automatic init); linked into `backbone-sse`, that cost every server, MongoDB or not,
/// about 7 MB of memory. So the MongoDB store lives in a sibling executable,
/// `backbone-sse-mongodb`, which registers its opener (`StoreRegistry.register`);
/// `backbone-sse` given a MongoDB store hands over to it (same process, same arguments:
/// `exec`).
enum SiblingExecutable {
    /// The executable that has the MongoDB store, beside this one.
    static let mongoDB = "backbone-sse-mongodb"

    /// The path of the sibling `name`, beside this executable.
    static func path(_ name: String) -> String {
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return me.deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func exists(_ name: String) -> Bool {
        FileManager.default.isExecutableFile(atPath: path(name))
    }

    /// Replaces this process with the sibling `name`, with the same arguments unless
    /// given others; returns only by throwing (exit code 1) when that fails. `store`
    /// says what needs it, for the message.
    static func handOver(to name: String, for store: String, arguments given: [String]? = nil) throws -> Never {
        let sibling = path(name)
        var arguments = given.map { [sibling] + $0 } ?? CommandLine.arguments
        arguments[0] = sibling
        let cArguments = arguments.map { strdup($0) } + [nil]
        execv(sibling, cArguments)
        let reason = String(cString: strerror(errno))
        FileHandle.standardError.write(Data("backbone-sse: \(store) needs \(sibling) (built beside backbone-sse): \(reason)\n".utf8))
        throw ExitCode(1)
    }
}
