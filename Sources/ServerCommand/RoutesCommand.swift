import ArgumentParser
import BackboneSSE
import Foundation

/// Prints the route table, one `METHOD /path` a line (the openapi.yaml test reads it);
/// with `--config`, each collection's own paths in place of `{collection}`.
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "List the HTTP routes the server answers.")

    @Option(help: "The collections file: list each collection's paths instead of /{collection}.")
    var config: String?

    func run() throws {
        let collections = try config.map { try ConfigFile.load($0).collections.map(\.name) }
        for route in Routes.table {
            guard let collections, route.path.contains("{collection}") else {
                print("\(route.method) \(route.path)")
                continue
            }
            for name in collections {
                print("\(route.method) \(route.path.replacingOccurrences(of: "{collection}", with: name))")
            }
        }
    }
}
