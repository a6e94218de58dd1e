import ArgumentParser
import BackboneSSE
import Foundation

/// `backbone-sse check --config FILE`: the config read as `serve` would read it (keys,
/// schemas, rules, the variables and key files `auth` names), without starting
/// anything: exit 2 with the key at fault, else the collections it declares.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a config file as serve would read it; exit 2 naming the key at fault.")

    @Option(help: "The collections file (YAML, or JSON).")
    var config: String

    func run() throws {
        let loaded = try ConfigFile.load(config)
        let auth = loaded.auth == nil ? "no auth block" : "auth on"
        print("\(config): ok: \(loaded.collections.map(\.name).joined(separator: ", ")) (\(auth))")
    }
}
