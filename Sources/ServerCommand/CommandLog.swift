import ArgumentParser
import Foundation
import Logging

/// Why an operator command stops: `usage` exits 2 (a flag, the config), `failed` 1.
enum CommandFailure: Error {
    case usage(String)
    case failed(String)
}

/// Logging and failures of the operator commands: warnings and worse on stderr.
enum CommandLog {
    static let logger: Logger = {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        return Logger(label: "backbone-sse")
    }()

    static func say(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Runs a command's body: a `CommandFailure` becomes its message and exit code.
    static func running(_ command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch CommandFailure.usage(let message) {
            say("backbone-sse \(command): \(message)")
            throw ExitCode(2)
        } catch CommandFailure.failed(let message) {
            say("backbone-sse \(command): \(message)")
            throw ExitCode(1)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            say("backbone-sse \(command): \(error)")
            throw ExitCode(1)
        }
    }
}
