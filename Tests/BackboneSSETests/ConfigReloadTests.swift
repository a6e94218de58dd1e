import DocumentStore
import Testing

@testable import BackboneSSE

/// `BackboneSSEApp.reload` (SIGHUP): what a new config changes, what it may not change
/// in a running server, and that a refused one leaves the old in force.
@Suite struct ConfigReloadTests {
    static let base = """
        collections:
          todos:
            unique: [slug]
            schema: {type: object, properties: {title: {type: string}}}
          lists: {}
        """

    static func parse(_ yaml: String) throws -> AppConfig {
        try ConfigLoader.parse(yaml, context: TestTokens.context)
    }

    @Test func whatChangedIsNamed() throws {
        let old = try Self.parse(Self.base)
        #expect(ConfigChange(from: old, to: try Self.parse(Self.base)).isEmpty)
        let next = try Self.parse(
            Self.base.replacingOccurrences(of: "title: {type: string}", with: "title: {type: string, maxLength: 5}")
                + "\n  notes: {}")
        let change = ConfigChange(from: old, to: next)
        #expect(change.added == ["notes"] && change.changed == ["todos"] && change.rulesChanged.isEmpty)
        #expect(change.refusals.isEmpty && !change.authChanged)
    }

    @Test(arguments: [
        ("  lists: {}", "", "collections.lists: removed"),
        ("unique: [slug]", "unique: []", "collections.todos.unique"),
    ])
    func whatCannotApplyLiveIsRefused(_ from: String, _ to: String, _ reason: String) throws {
        let change = ConfigChange(from: try Self.parse(Self.base), to: try Self.parse(Self.base.replacingOccurrences(of: from, with: to)))
        #expect(change.refusals.count == 1 && change.refusals[0].hasPrefix(reason), "\(change.refusals)")
    }

    @Test func ownersAndTheAuthBlockAreRestartMatters() throws {
        let auth = """
            auth: {jwt: {secret_env: \(TestTokens.secretVariable)}}
            collections:
              todos: {owner: owner, access: {read: owner}}
            """
        let old = try Self.parse(auth)
        let owner = ConfigChange(from: old, to: try Self.parse(auth.replacingOccurrences(of: "owner: owner", with: "owner: by")))
        #expect(owner.refusals.contains { $0.hasPrefix("collections.todos.owner: from owner to by") })
        let off = ConfigChange(from: old, to: try Self.parse("collections:\n  todos: {}"))
        #expect(off.refusals.contains { $0.hasPrefix("auth: removed") })
        let rules = ConfigChange(
            from: old, to: try Self.parse(auth.replacingOccurrences(of: "read: owner", with: "read: [owner, role:admin]")))
        #expect(rules.refusals.isEmpty && rules.rulesChanged == ["todos"] && rules.reauthorise == ["todos"])
    }

    @Test func aReloadedConfigServesTheNextRequestAndARefusedOneChangesNothing() async throws {
        try await TestApp.run(config: Self.base) { app in
            #expect(try await app.post("/notes", json: #"{"a": 1}"#).status == 404)
            let added = app.app.reload(try Self.parse(Self.base + "\n  notes: {}"))
            #expect((try? added.get())?.added == ["notes"])
            #expect(try await app.post("/notes", json: #"{"a": 1}"#).status == 201)
            let refused = app.app.reload(try Self.parse(Self.base))  // drops notes
            guard case .failure(let reasons) = refused else {
                Issue.record("a removal was applied")
                return
            }
            #expect(reasons.description.contains("collections.notes: removed"))
            #expect(try await app.post("/notes", json: #"{"a": 2}"#).status == 201)
        }
    }
}
