import Foundation
import Synchronization

/// The MongoDB test double of Tests/mongo (mockupdb + mongomock: not a MongoDB server),
/// started for a test; or the real server named by MONGODB_URI when it is set. Shared
/// by the MongoStore tests and the store conformance suite.
public final class MongoDouble: @unchecked Sendable {
    // @unchecked: `process` changes only in start/stop, which tests call from one task.
    /// `mongodb://127.0.0.1:PORT` without a database.
    public let server: String
    public let port: Int?
    private var process: Process?
    /// The double's stdin: it stops when this end closes, so a test process that
    /// crashes (and runs no clean-up) still takes it down, and `swift test`, which
    /// waits for every holder of its output, does not hang.
    private var stdin: Pipe?

    /// Is a real server (MONGODB_URI) used instead of the double?
    public static var realServer: String? {
        guard let uri = ProcessInfo.processInfo.environment["MONGODB_URI"], !uri.isEmpty else { return nil }
        return uri.hasSuffix("/") ? String(uri.dropLast()) : uri
    }

    /// One double for a whole test process (each test uses its own database), stopped
    /// when the process exits.
    public static let shared: MongoDouble = {
        let double = try! MongoDouble()
        if let pid = double.process?.processIdentifier { sharedPID.store(pid, ordering: .relaxed) }
        atexit {
            let pid = MongoDouble.sharedPID.load(ordering: .relaxed)
            if pid > 0 { kill(pid, SIGKILL) }
        }
        return double
    }()

    private static let sharedPID = Atomic<Int32>(0)

    /// A connection string for a fresh database on this server.
    public func uri(database: String = "test_\(UUID().uuidString.prefix(8).lowercased())") -> String {
        if let real = Self.realServer {
            // A URI with a path or options: the database goes before the options.
            if let query = real.firstIndex(of: "?") {
                return real[..<query].trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/\(database)" + real[query...]
            }
            return real + "/" + database
        }
        return "\(server)/\(database)"
    }

    /// Starts a double on `port` (0: any free port).
    public init(port requested: Int = 0) throws {
        if let real = Self.realServer {
            server = real
            port = nil
            return
        }
        let (process, stdin, port) = try Self.launch(port: requested)
        self.process = process
        self.stdin = stdin
        self.port = port
        server = "mongodb://127.0.0.1:\(port)"
    }

    /// The double again on the same port, empty (it keeps nothing in between).
    public func restart() throws {
        guard let port, process?.isRunning != true else { return }
        for attempt in 0..<50 {
            do {
                let launched = try Self.launch(port: port)
                (process, stdin) = (launched.process, launched.stdin)
                return
            } catch  where attempt < 49 {
                Thread.sleep(forTimeInterval: 0.1)  // the port may still be in TIME_WAIT
            }
        }
    }

    public func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }

    private static func launch(port requested: Int) throws -> (process: Process, stdin: Pipe, port: Int) {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("mongo-double-\(UUID().uuidString).port")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", root.appendingPathComponent("Tests/mongo/mongo_double.py").path,
            "--port", String(requested), "--port-file", portFile.path, "--exit-with-stdin",
        ]
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        // Its own log, not the test process's stderr (which `swift test` reads to the end).
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("mongo-double-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline && process.isRunning {
            if let text = try? String(contentsOf: portFile, encoding: .utf8),
                let port = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            {
                return (process, stdin, port)
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        if process.isRunning { process.terminate() }
        throw CocoaError(.fileReadNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "the MongoDB test double did not start"])
    }
}
