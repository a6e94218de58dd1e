import ArgumentParser
import BackboneSSE
import Foundation

/// The config file as the commands that start from one read it: a mistake is said on
/// standard error with its key, and the command exits 2.
enum ConfigFile {
    static func load(_ path: String) throws -> AppConfig {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            FileHandle.standardError.write(Data("backbone-sse: bad config: \(error)\n".utf8))
            throw ExitCode(2)
        }
    }
}
