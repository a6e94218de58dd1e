import ArgumentParser

/// The command line of both executables: `backbone-sse` (the embedded store) and
/// `backbone-sse-mongodb` (the same, with the MongoDB store linked in).
public struct BackboneSSECommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "backbone-sse",
        abstract: "Persistent, live Backbone collections over plain HTTP.",
        subcommands: [
            ServeCommand.self, RoutesCommand.self, CheckCommand.self, VersionCommand.self, ExportCommand.self, ImportCommand.self,
            CopyCommand.self,
            BackupCommand.self, RestoreCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )

    /// `--version` is `version` (ArgumentParser's own would print a fixed string, and
    /// the default subcommand would take the flag for one of `serve`'s).
    public static func main() {
        if Array(CommandLine.arguments.dropFirst()) == ["--version"] {
            VersionCommand.report()
            return
        }
        main(nil)
    }
}
