import Foundation
import Synchronization

/// A real `redis-server` for one test, on 127.0.0.1 and a free port, persisting nothing;
/// it can be killed, restarted on the same port, paused (SIGSTOP) and resumed.
final class RedisServerProcess: @unchecked Sendable {
    // @unchecked: `process` changes only in start/kill, which a test calls from one task.
    static let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    static var isInstalled: Bool { executable != nil }

    let port: Int
    private let extraArguments: [String]
    private var process: Process?

    init(arguments: [String] = []) throws {
        port = try Self.freePort()
        extraArguments = arguments
        try start()
    }

    deinit { kill() }

    var pid: Int32 { process?.processIdentifier ?? 0 }

    func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executable!)
        process.arguments =
            ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning"]
            + extraArguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        _ = Self.running.withLock { $0.insert(process.processIdentifier) }
        try waitUntilListening()
    }

    /// SIGKILL, and waits for the process to be gone (its port free again).
    func kill() {
        guard let process, process.isRunning else { return }
        Foundation.kill(process.processIdentifier, SIGCONT)
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        _ = Self.running.withLock { $0.remove(process.processIdentifier) }
    }

    func pause() { Foundation.kill(pid, SIGSTOP) }
    func resume() { Foundation.kill(pid, SIGCONT) }

    private func waitUntilListening() throws {
        for _ in 0..<200 {
            if Self.canConnect(port: port) { return }
            Thread.sleep(forTimeInterval: 0.02)
        }
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "redis-server did not listen on \(port)"])
    }

    private static func canConnect(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }

    /// A port the kernel just handed out (and took back): free for the server, barring a race.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw CocoaError(.fileWriteUnknown) }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Servers still running when the test process exits (a failed `#require`, a crash
    /// in a test) are killed then, so none outlives `swift test`.
    private static let running: Mutex<Set<Int32>> = {
        atexit {
            for pid in RedisServerProcess.running.withLock({ $0 }) { Foundation.kill(pid, SIGKILL) }
        }
        return Mutex([])
    }()
}
