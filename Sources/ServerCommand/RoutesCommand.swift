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
        var collections: [String]?
        if let config {
            do {
                collections = try ConfigLoader.load(path: config).collections.map(\.name)
            } catch {
                FileHandle.standardError.write(Data("backbone-sse: bad config: \(error)\n".utf8))
                throw ExitCode(2)
            }
        }
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
