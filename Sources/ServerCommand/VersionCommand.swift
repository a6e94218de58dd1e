import ArgumentParser
import BackboneSSE
import Foundation

/// `backbone-sse version` (and `--version`): this release, and the C libraries it runs
/// with. `backbone-sse` does not link libmongoc (see `SiblingExecutable`): it lets the
/// sibling that does answer, so that one report names them all.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "version", abstract: "Print the version and the linked libmicrohttpd, SQLite and libmongoc versions.")

    func run() throws {
        Self.report()
    }

    static func report() {
        if !LinkedLibraries.hasMongoDB, SiblingExecutable.exists(SiblingExecutable.mongoDB) {
            // Same process, the sibling's report (returns only if the exec failed).
            try? SiblingExecutable.handOver(to: SiblingExecutable.mongoDB, for: "the version report", arguments: ["version"])
        }
        var lines = ["backbone-sse \(Release.version)"]
        lines += LinkedLibraries.all.map { "\($0.name) \($0.version)" }
        if !LinkedLibraries.hasMongoDB { lines.append("libmongoc: not installed (\(SiblingExecutable.mongoDB) is missing)") }
        print(lines.joined(separator: "\n"))
    }
}
