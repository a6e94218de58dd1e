import BackboneSSE
import Testing

/// Every route × rule × caller of AuthTestConfig: anonymous, the owner, another user, an
/// admin. 401 where a token would help, 403 for writes without the right, 404 for reads
/// of a document one may not read.
@Suite struct AccessMatrixTests {
    @Test func ownedCollection() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"alice's"}"#, as: u.alice)
            // Reads: `read: owner`.
            #expect(try await app.get("/todos/\(id)", as: nil).status == 401)
            #expect(try await app.get("/todos/\(id)", as: u.alice).status == 200)
            #expect(try await app.get("/todos/\(id)", as: u.bob).status == 404)
            #expect(try await app.get("/todos/\(id)", as: u.admin).status == 404)  // admin may update, not read
            #expect(try await app.get("/todos", as: nil).status == 401)
            #expect(try await app.get("/todos", as: u.bob).array == [])
            // Creates: `user`.
            #expect(try await app.post("/todos", json: "{}", as: nil).status == 401)
            // Updates: [owner, role:admin]; bob may not read it, so 404.
            #expect(try await app.patch("/todos/\(id)", json: #"{"title":"b"}"#, as: nil).status == 401)
            #expect(try await app.patch("/todos/\(id)", json: #"{"title":"b"}"#, as: u.bob).status == 404)
            #expect(try await app.put("/todos/\(id)", json: #"{"title":"b"}"#, as: u.bob).status == 404)
            #expect(try await app.patch("/todos/\(id)", json: #"{"title":"a2"}"#, as: u.alice).status == 200)
            #expect(try await app.patch("/todos/\(id)", json: #"{"title":"by admin"}"#, as: u.admin).status == 200)
            // Deletes: [owner, role:admin].
            #expect(try await app.delete("/todos/\(id)", as: nil).status == 401)
            #expect(try await app.delete("/todos/\(id)", as: u.bob).status == 404)
            #expect(try await app.delete("/todos/\(id)", as: u.admin).status == 200)
            #expect(try await app.get("/todos/\(id)", as: u.alice).status == 404)
        }
    }

    @Test func ownedCollectionAnAdminMayRead() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("notes", #"{"text":"n"}"#, as: u.alice)
            #expect(try await app.get("/notes/\(id)", as: u.admin).status == 200)
            #expect(try await app.get("/notes", as: u.admin).array?.count == 1)
            // `update: owner` only: the admin may read it, so refusing is 403, not 404.
            let r = try await app.patch("/notes/\(id)", json: #"{"text":"x"}"#, as: u.admin)
            #expect(r.status == 403)
            #expect(r.errorCode == "forbidden")
            // `delete: role:admin`: the owner may not (403 before the document is looked at).
            #expect(try await app.delete("/notes/\(id)", as: u.alice).status == 403)
            #expect(try await app.delete("/notes/\(id)", as: u.bob).status == 403)
            #expect(try await app.delete("/notes/\(id)", as: u.admin).status == 200)
        }
    }

    @Test func collectionWithoutAccessIsUserForEverything() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            #expect(try await app.get("/shared", as: nil).status == 401)
            #expect(try await app.post("/shared", json: "{}", as: nil).status == 401)
            let id = try await app.created("shared", #"{"n":1}"#, as: u.alice)
            #expect(try await app.get("/shared/\(id)", as: nil).status == 401)
            #expect(try await app.put("/shared/\(id)", json: #"{"n":2}"#, as: nil).status == 401)
            #expect(try await app.delete("/shared/\(id)", as: nil).status == 401)
            #expect(try await app.get("/shared/\(id)", as: u.bob).status == 200)
            #expect(try await app.patch("/shared/\(id)", json: #"{"n":3}"#, as: u.bob).status == 200)
            #expect(try await app.delete("/shared/\(id)", as: u.bob).status == 200)
        }
    }

    @Test func publicBoardWithClosedWrites() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            #expect(try await app.get("/board", as: nil).status == 200)
            #expect(try await app.post("/board", json: "{}", as: nil).status == 401)
            #expect(try await app.post("/board", json: "{}", as: u.alice).status == 403)
            let id = try await app.created("board", #"{"msg":"hi"}"#, as: u.editor)
            #expect(try await app.get("/board/\(id)", as: nil).status == 200)
            // `nobody`: a token would not help, so 403 even without one.
            #expect(try await app.patch("/board/\(id)", json: #"{"msg":"x"}"#, as: nil).status == 403)
            #expect(try await app.patch("/board/\(id)", json: #"{"msg":"x"}"#, as: u.admin).status == 403)
            #expect(try await app.delete("/board/\(id)", as: u.editor).status == 403)
            // PUT of a new id is a create: the editor may.
            #expect(try await app.put("/board/new-one", json: #"{"msg":"x"}"#, as: u.editor).status == 201)
            // PUT of an existing id is an update: no one may.
            #expect(try await app.put("/board/new-one", json: #"{"msg":"y"}"#, as: u.editor).status == 403)
        }
    }

    @Test func aRoleOnlyCollection() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let auditor = try await TestTokens.token("aud", roles: ["auditor"])
            let id = try await app.created("audit", #"{"what":"x"}"#, as: auditor)
            #expect(try await app.get("/audit", as: nil).status == 401)
            #expect(try await app.get("/audit", as: u.alice).status == 403)
            #expect(try await app.get("/audit/\(id)", as: u.alice).status == 404)
            #expect(try await app.request("HEAD", "/audit/\(id)", headers: TestTokens.bearer(u.alice)).status == 404)
            #expect(try await app.get("/audit/\(id)", as: auditor).status == 200)
            #expect(try await app.post("/audit", json: "{}", as: u.admin).status == 403)
            // /events needs the read right on every collection it names.
            let events = try await app.get("/events?collections=board,audit", as: u.alice)
            #expect(events.status == 403)
            #expect(try await app.get("/events?collections=board,audit", as: nil).status == 401)
        }
    }

    @Test func overriddenMethodsMeetTheRulesOfTheMethodTheyStandFor() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            let id = try await app.created("todos", #"{"title":"a"}"#, as: u.alice)
            let override = [("X-HTTP-Method-Override", "DELETE")] + TestTokens.bearer(u.bob)
            #expect(try await app.request("POST", "/todos/\(id)", json: "{}", headers: override).status == 404)
            let patch = [("X-HTTP-Method-Override", "PATCH")] + TestTokens.bearer(u.alice)
            #expect(try await app.request("POST", "/todos/\(id)", json: #"{"owner":"bob"}"#, headers: patch).status == 403)
            #expect(try await app.get("/todos/\(id)", as: u.alice).status == 200)
        }
    }

    @Test func metricsFollowTheirRule() async throws {
        try await TestApp.runWithAuth { app in
            let u = try await Users.make()
            #expect(try await app.get("/metrics", as: nil).status == 401)
            #expect(try await app.get("/metrics", as: u.alice).status == 403)
            #expect(try await app.get("/metrics", as: u.ops).status == 200)
        }
    }

    @Test func preflightsAndAllowNeedNoToken() async throws {
        try await TestApp.runWithAuth { app in
            let r = try await app.options("/todos")
            #expect(r.status == 204)
        }
    }
}

/// Pages of other origins can send tokens and read why they were refused.
@Suite struct AuthCORSTests {
    @Test func aPreflightAllowsAuthorizationAndAnswersExposeWWWAuthenticate() async throws {
        try await TestApp.run(config: AuthTestConfig.yaml, options: ServiceOptions(corsOrigins: ["http://app.test"])) { app in
            let preflight = try await app.options(
                "/todos", headers: [("Origin", "http://app.test"), ("Access-Control-Request-Method", "GET")])
            #expect(preflight.headerSet("Access-Control-Allow-Headers").contains("authorization"))
            let refused = try await app.get("/todos", headers: [("Origin", "http://app.test")])
            #expect(refused.status == 401)
            #expect(refused.header("Access-Control-Allow-Origin") == "http://app.test")
            #expect(refused.headerSet("Access-Control-Expose-Headers").contains("www-authenticate"))
        }
    }
}
