import ArgumentParser
import BackboneSSE

/// Prints the route table, one `METHOD /path` a line (the openapi.yaml test reads it).
struct RoutesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "routes", abstract: "List the HTTP routes the server answers.")

    func run() {
        for route in Routes.table { print("\(route.method) \(route.path)") }
    }
}
