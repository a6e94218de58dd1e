import Foundation

/// The MongoDB test double of Tests/mongo (mockupdb + mongomock), started for a test;
/// or the real server named by MONGODB_URI when it is set.
final class MongoDouble {
    let uri: String
    private let process: Process?

    init(database: String = "test_\(UUID().uuidString.prefix(8).lowercased())") throws {
        if let real = ProcessInfo.processInfo.environment["MONGODB_URI"], !real.isEmpty {
            uri = real.hasSuffix("/") ? real + database : real
            process = nil
            return
        }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let portFile = FileManager.default.temporaryDirectory.appendingPathComponent("mongo-double-\(UUID().uuidString).port")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", root.appendingPathComponent("Tests/mongo/mongo_double.py").path, "--port", "0", "--port-file", portFile.path]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(20)
        var port: String?
        while Date() < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8), !text.isEmpty {
                port = text.trimmingCharacters(in: .whitespacesAndNewlines)
                break
            }
            Thread.sleep(forTimeInterval: 0.05)
        }
        guard let port else {
            process.terminate()
            throw CocoaError(.fileReadNoSuchFile)
        }
        self.process = process
        uri = "mongodb://127.0.0.1:\(port)/\(database)"
    }

    func stop() {
        guard let process, process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    deinit { stop() }
}
