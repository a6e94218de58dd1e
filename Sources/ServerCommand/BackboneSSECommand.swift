import ArgumentParser

/// The command line of both executables: `backbone-sse` (the embedded store) and
/// `backbone-sse-mongodb` (the same, with the MongoDB store linked in).
public struct BackboneSSECommand: ParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "backbone-sse",
        abstract: "Persistent, live Backbone collections over plain HTTP.",
        subcommands: [
            ServeCommand.self, RoutesCommand.self, ExportCommand.self, ImportCommand.self, CopyCommand.self, BackupCommand.self,
            RestoreCommand.self,
        ],
        defaultSubcommand: ServeCommand.self
    )
}
