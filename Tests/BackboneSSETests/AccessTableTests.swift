import Testing

/// The whole matrix, as a table: every route × every collection of AuthTestConfig (one
/// kind of rule each) × anonymous / the document's creator / another user / an admin.
/// Each cell acts on a document of its own, made by the collection's creator.
@Suite struct AccessTableTests {
    enum Route: String, CaseIterable {
        case list = "GET /{c}"
        case read = "GET /{c}/{id}"
        case create = "POST /{c}"
        case replace = "PUT /{c}/{id}"
        case putNew = "PUT /{c}/{new}"
        case patch = "PATCH /{c}/{id}"
        case delete = "DELETE /{c}/{id}"
        case listStream = "GET /{c} (stream)"
        case readStream = "GET /{c}/{id} (stream)"
    }

    /// Expected statuses for anonymous, creator, other user, admin.
    typealias Row = (Route, [Int])

    static let table: [String: (creator: String, rows: [Row])] = [
        // read: owner; create: user; update and delete: [owner, role:admin]
        "todos": (
            "alice",
            [
                (.list, [401, 200, 200, 200]), (.read, [401, 200, 404, 404]), (.create, [401, 201, 201, 201]),
                (.replace, [401, 200, 404, 200]), (.putNew, [401, 201, 201, 201]), (.patch, [401, 200, 404, 200]),
                (.delete, [401, 200, 404, 200]), (.listStream, [401, 200, 200, 200]), (.readStream, [401, 200, 404, 404]),
            ]
        ),
        // read: [owner, role:admin]; create: user; update: owner; delete: role:admin
        "notes": (
            "alice",
            [
                (.list, [401, 200, 200, 200]), (.read, [401, 200, 404, 200]), (.create, [401, 201, 201, 201]),
                (.replace, [401, 200, 404, 403]), (.putNew, [401, 201, 201, 201]), (.patch, [401, 200, 404, 403]),
                (.delete, [401, 403, 403, 200]), (.listStream, [401, 200, 200, 200]), (.readStream, [401, 200, 404, 200]),
            ]
        ),
        // no access block: user for everything
        "shared": (
            "alice",
            [
                (.list, [401, 200, 200, 200]), (.read, [401, 200, 200, 200]), (.create, [401, 201, 201, 201]),
                (.replace, [401, 200, 200, 200]), (.putNew, [401, 201, 201, 201]), (.patch, [401, 200, 200, 200]),
                (.delete, [401, 200, 200, 200]), (.listStream, [401, 200, 200, 200]), (.readStream, [401, 200, 200, 200]),
            ]
        ),
        // read and create: role:auditor; update and delete: nobody
        "audit": (
            "auditor",
            [
                (.list, [401, 200, 403, 403]), (.read, [401, 200, 404, 404]), (.create, [401, 201, 403, 403]),
                (.replace, [401, 403, 403, 403]), (.putNew, [401, 201, 403, 403]), (.patch, [403, 403, 403, 403]),
                (.delete, [403, 403, 403, 403]), (.listStream, [401, 200, 403, 403]), (.readStream, [401, 200, 404, 404]),
            ]
        ),
        // read: anyone; create: role:editor; update and delete: nobody
        "board": (
            "editor",
            [
                (.list, [200, 200, 200, 200]), (.read, [200, 200, 200, 200]), (.create, [401, 201, 403, 403]),
                (.replace, [401, 403, 403, 403]), (.putNew, [401, 201, 403, 403]), (.patch, [403, 403, 403, 403]),
                (.delete, [403, 403, 403, 403]), (.listStream, [200, 200, 200, 200]), (.readStream, [200, 200, 200, 200]),
            ]
        ),
    ]

    @Test(arguments: ["todos", "notes", "shared", "audit", "board"])
    func everyCell(collection: String) async throws {
        let (creatorName, rows) = try #require(Self.table[collection])
        try await TestApp.runWithAuth { app in
            let creator = try await TestTokens.token(creatorName, roles: [creatorName])
            let callers: [(String, String?)] = [
                ("anonymous", nil), ("creator", creator), ("other", try await TestTokens.token("bob")),
                ("admin", try await TestTokens.token("root", roles: ["admin"])),
            ]
            var cell = 0
            for (route, expected) in rows {
                for ((who, token), status) in zip(callers, expected) {
                    cell += 1
                    let id = try await app.created(collection, #"{"n":\#(cell)}"#, as: creator)
                    let r = try await Self.send(route, collection: collection, id: id, cell: cell, as: token, app: app)
                    #expect(r.status == status, "\(collection): \(route.rawValue) as \(who): \(r.text)")
                    r.closeStream()
                }
            }
        }
    }

    static func send(
        _ route: Route, collection c: String, id: String, cell: Int, as token: String?, app: TestApp
    )
        async throws -> TestResponse
    {
        let stream = [("Accept", "text/event-stream")]
        switch route {
        case .list: return try await app.get("/\(c)", as: token)
        case .read: return try await app.get("/\(c)/\(id)", as: token)
        case .create: return try await app.post("/\(c)", json: #"{"n":0}"#, as: token)
        case .replace: return try await app.put("/\(c)/\(id)", json: #"{"n":1}"#, as: token)
        case .putNew: return try await app.put("/\(c)/new-\(cell)", json: #"{"n":1}"#, as: token)
        case .patch: return try await app.patch("/\(c)/\(id)", json: #"{"n":2}"#, as: token)
        case .delete: return try await app.delete("/\(c)/\(id)", as: token)
        case .listStream: return try await app.get("/\(c)", as: token, headers: stream)
        case .readStream: return try await app.get("/\(c)/\(id)", as: token, headers: stream)
        }
    }
}
