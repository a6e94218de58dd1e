@testable import BackboneSSE
import Testing

/// The route table is the one source of dispatch, `Allow`, route labels and reserved
/// names: these check what is derived from it.
@Suite struct RoutesTests {
    @Test func eachMethodAndPathIsRegisteredOnce() {
        let keys = Routes.table.map { "\($0.method) \($0.path)" }
        #expect(Set(keys).count == keys.count)
    }

    @Test func reservedNamesAreTheLiteralPathsOfTheTable() {
        #expect(Routes.reservedNames == ["healthz", "livez", "readyz", "metrics", "openapi.yaml", "events", "backbone-sse.js", "auth"])
    }

    @Test(arguments: ["healthz", "metrics", "events", "auth"])
    func aCollectionCannotTakeARouteName(_ name: String) {
        #expect(throws: ConfigError.self) { try ConfigLoader.parse("collections:\n  \(name): {}\n") }
    }

    @Test func allowListsTheMethodsOfAPathWithHeadAndOptions() {
        let byPath = Dictionary(grouping: Routes.table, by: \.path)
        #expect(Router.allow(byPath["/{collection}"]!.map(\.method)) == "GET, HEAD, POST, OPTIONS")
        #expect(Router.allow(byPath["/{collection}/{id}"]!.map(\.method)) == "GET, HEAD, PUT, PATCH, DELETE, OPTIONS")
        #expect(Router.allow(byPath["/healthz"]!.map(\.method)) == "GET, HEAD, OPTIONS")
    }

    @Test func templatesSplitIntoLiteralsAndParameters() {
        #expect(RouteTemplate("/{collection}/{id}").segments == [.collection, .id])
        #expect(RouteTemplate("/openapi.yaml").segments == [.literal("openapi.yaml")])
        #expect(RouteTemplate("/{collection}").reservedName == nil)
    }
}
