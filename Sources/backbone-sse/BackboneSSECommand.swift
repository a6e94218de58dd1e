import ArgumentParser

@main
struct BackboneSSECommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backbone-sse",
        abstract: "Persistent, live Backbone collections over plain HTTP.",
        subcommands: [ServeCommand.self, RoutesCommand.self],
        defaultSubcommand: ServeCommand.self
    )
}
