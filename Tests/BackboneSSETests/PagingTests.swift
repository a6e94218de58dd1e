import BackboneSSE
import DocumentStore
import Testing

/// The paging headers of a truncated list, `X-Total-Count` and `Link`, as the app
/// writes them (new in process, on SQLite: the counts and orders on every store stay
/// with test_backbone_shapes.py, which runs on MongoDB too).
@Suite struct PagingTests {
    static func names(_ r: TestResponse) -> [String] { (r.array ?? []).compactMap { $0.objectValue?["name"]?.stringValue } }

    @Test func maxLimitIsTheDefaultPageAndLinkWalksTheRest() async throws {
        try await TestApp.run(options: ServiceOptions(maxLimit: 2)) { app in
            for name in ["n0", "n1", "n2"] { try await app.create(#"{"name": "\#(name)"}"#, in: "lists") }
            let first = try await app.get("/lists?sort=name")
            #expect(Self.names(first) == ["n0", "n1"])
            #expect(first.header("X-Total-Count") == "3")
            #expect(first.header("Link") == #"</lists?sort=name&skip=2&limit=2>; rel="next""#)
            let last = try await app.get("/lists?sort=name&skip=2&limit=2")
            #expect(Self.names(last) == ["n2"])
            #expect(last.header("X-Total-Count") == "3")
            #expect(last.header("Link") == #"</lists?sort=name&skip=0&limit=2>; rel="prev""#)
            // A limit above maxLimit is capped.
            #expect(Self.names(try await app.get("/lists?sort=name&limit=100")) == ["n0", "n1"])
        }
    }

    @Test func linkKeepsTheFilterEncodedAndDropsTheCacheBuster() async throws {
        try await TestApp.run { app in
            for name in ["n0", "n1", "n2"] { try await app.create(#"{"name": "\#(name)"}"#, in: "lists") }
            let r = try await app.get("/lists?where%5Bname%5D%5B%24gte%5D=n1&sort=name&limit=1&_=5")
            #expect(Self.names(r) == ["n1"])
            #expect(r.header("X-Total-Count") == "2")
            #expect(r.header("Link") == #"</lists?where%5Bname%5D%5B%24gte%5D=n1&sort=name&skip=1&limit=1>; rel="next""#)
        }
    }

    @Test func anUntruncatedListHasNoPagingHeaders() async throws {
        try await TestApp.run { app in
            try await app.create(#"{"name": "only"}"#, in: "lists")
            let r = try await app.get("/lists?limit=100")
            #expect(Self.names(r) == ["only"])
            #expect(!r.has("Link"))
            #expect([nil, "1"].contains(r.header("X-Total-Count")))
        }
    }
}
