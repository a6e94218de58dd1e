import DocumentStore
import Foundation
import Testing

/// The REST rows of DESIGN.md §1, in process (moved from Tests/integration/test_rest.py).
@Suite struct RESTTests {
    // MARK: list

    @Test func listIsAJSONArrayWithAStreamCursor() async throws {
        try await TestApp.run { app in
            let r = try await app.get("/todos")
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(r.array != nil)
            #expect(Pattern.matches(r.header("X-Stream-Cursor"), Pattern.cursor), "\(r.header("X-Stream-Cursor") ?? "none")")
        }
    }

    // MARK: create

    @Test func createReturnsTheFullStoredDocument() async throws {
        try await TestApp.run { app in
            let slug = unique("slug")
            let r = try await app.post("/todos", json: #"{"title": "Milk", "priority": 2, "slug": "\#(slug)", "tags": ["a", "b"]}"#)
            #expect(r.status == 201, "\(r.text)")
            let doc = try #require(r.object)
            #expect(Pattern.matches(doc["id"]?.stringValue, Pattern.objectID), "\(doc)")
            #expect(doc["_v"] == .int(1))
            #expect(doc["title"] == .string("Milk"))
            #expect(doc["priority"] == .int(2))
            #expect(doc["slug"] == .string(slug))
            #expect(doc["tags"] == json(#"["a", "b"]"#))
            #expect(doc["done"] == .bool(false))  // schema default
            let created = try #require(Pattern.time(doc["created"]?.stringValue))
            let updated = try #require(Pattern.time(doc["updated"]?.stringValue))
            #expect(created == updated)
            #expect(abs(created.timeIntervalSinceNow) < 120)
            #expect(Set(doc.keys) == ["id", "_v", "title", "priority", "slug", "tags", "done", "created", "updated"])
            #expect(r.header("Location") == "/todos/\(doc.string("id"))")
            #expect(r.header("ETag") == #""1""#)
            // What came back is what is stored.
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    @Test func createWithAClientIDKeepsIt() async throws {
        try await TestApp.run { app in
            let cid = unique("client")
            let r = try await app.post("/todos", json: #"{"id": "\#(cid)", "title": "with id"}"#)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.object?["id"] == .string(cid))
            #expect(r.header("Location") == "/todos/\(cid)")
        }
    }

    @Test func createIgnoresClientSentServerFields() async throws {
        try await TestApp.run { app in
            let r = try await app.post(
                "/todos", json: #"{"title": "x", "_v": 7, "created": "1999-01-01T00:00:00Z", "updated": "1999-01-01T00:00:00Z"}"#)
            #expect(r.status == 201, "\(r.text)")
            let doc = try #require(r.object)
            #expect(doc["_v"] == .int(1))
            #expect(doc["created"]?.stringValue?.hasPrefix("1999") == false)
            #expect(doc["updated"]?.stringValue?.hasPrefix("1999") == false)
        }
    }

    @Test func explicitDoneIsKept() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "done already", "done": true}"#)
            #expect(doc["done"] == .bool(true))
        }
    }

    @Test func createInACollectionWithoutSchema() async throws {
        try await TestApp.run { app in
            let r = try await app.post("/lists", json: #"{"name": "groceries", "owner": {"name": "ann"}, "n": 1.5}"#)
            #expect(r.status == 201, "\(r.text)")
            let doc = try #require(r.object)
            #expect(Pattern.matches(doc["id"]?.stringValue, Pattern.objectID))
            #expect(doc["_v"] == .int(1))
            #expect(doc["owner"] == json(#"{"name": "ann"}"#) && doc["n"] == .double(1.5))
            #expect(doc["created"] == nil && doc["updated"] == nil)  // no timestamps on `lists`
        }
    }

    // MARK: read

    @Test func readReturnsTheDocumentWithAnETag() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "read me"}"#)
            let r = try await app.get("/todos/\(doc.string("id"))")
            #expect(r.status == 200)
            #expect(r.header("ETag") == #""1""#)
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(r.object == doc)
        }
    }

    @Test func readMissingDocumentIs404() async throws {
        try await TestApp.run { app in
            let error = expectError(try await app.get("/todos/does-not-exist"), 404)
            #expect(error["code"] == .string("not_found"))
        }
    }

    @Test func ifNoneMatchWithTheCurrentETagIs304() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "cache me"}"#)
            let path = "/todos/\(doc.string("id"))"
            let r = try await app.get(path, headers: [("If-None-Match", #""1""#)])
            #expect(r.status == 304)
            #expect(r.body.isEmpty)
            #expect(r.header("ETag") == #""1""#)
            // W/ and lists of tags too
            #expect(try await app.get(path, headers: [("If-None-Match", #"W/"1""#)]).status == 304)
            #expect(try await app.get(path, headers: [("If-None-Match", #""7", "1""#)]).status == 304)
            // A stale tag gets the document.
            let stale = try await app.get(path, headers: [("If-None-Match", #""0""#)])
            #expect(stale.status == 200 && stale.object == doc)
        }
    }

    // MARK: PUT

    @Test func putReplacesTheDocument() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "old", "priority": 1, "tags": ["x"]}"#)
            let r = try await app.put("/todos/\(doc.string("id"))", json: #"{"title": "new", "done": true}"#)
            #expect(r.status == 200, "\(r.text)")
            let new = try #require(r.object)
            #expect(new["id"] == doc["id"])
            #expect(new["_v"] == .int(2))
            #expect(new["title"] == .string("new") && new["done"] == .bool(true))
            // A replace drops what was not sent.
            #expect(new["priority"] == nil && new["tags"] == nil)
            #expect(new["created"] == doc["created"])
            let updated = try #require(Pattern.time(new["updated"]?.stringValue))
            #expect(updated >= (try #require(Pattern.time(doc["updated"]?.stringValue))))
            #expect(r.header("ETag") == #""2""#)
            #expect(try await app.document(doc.string("id")) == new)
        }
    }

    @Test func putWithMatchingVSucceeds() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "v"}"#)
            // Backbone sends the whole model back, _v included.
            let r = try await app.put("/todos/\(doc.string("id"))", json: doc.with([("title", .string("v2"))]).text)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["_v"] == .int(2) && r.object?["title"] == .string("v2"))
        }
    }

    @Test func putReplaceAppliesSchemaDefaults() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "was done", "done": true}"#)
            let r = try await app.put("/todos/\(doc.string("id"))", json: #"{"title": "replaced"}"#)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["done"] == .bool(false))
        }
    }

    @Test func putCreatesWithAClientChosenID() async throws {
        try await TestApp.run { app in
            let cid = unique("put")
            let r = try await app.put("/todos/\(cid)", json: #"{"title": "made by PUT"}"#)
            #expect(r.status == 201, "\(r.text)")
            let doc = try #require(r.object)
            #expect(doc["id"] == .string(cid) && doc["_v"] == .int(1) && doc["done"] == .bool(false))
            #expect(Pattern.time(doc["created"]?.stringValue) != nil)
            #expect(r.header("Location") == "/todos/\(cid)")
            #expect(r.header("ETag") == #""1""#)
            #expect(try await app.document(cid) == doc)
        }
    }

    @Test func putBodyIDDifferingFromURLIs400() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "mismatch"}"#)
            let n = try await app.count()
            expectError(try await app.put("/todos/\(doc.string("id"))", json: #"{"id": "other", "title": "x"}"#), 400)
            #expect(try await app.count() == n)
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    @Test func putInvalidDocumentIs422AndChangesNothing() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "keep"}"#)
            let error = expectError(try await app.put("/todos/\(doc.string("id"))", json: #"{"title": ""}"#), 422)
            #expect(error["details"]?.arrayValue?.first?.objectValue?["path"] == .string("/title"))
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    // MARK: PATCH

    @Test func patchMergesShallowly() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "patch me", "priority": 1, "tags": ["a"]}"#)
            let path = "/todos/\(doc.string("id"))"
            let r = try await app.patch(path, json: #"{"done": true, "tags": ["b"]}"#)
            #expect(r.status == 200, "\(r.text)")
            let new = try #require(r.object)
            #expect(new["_v"] == .int(2))
            #expect(new["done"] == .bool(true) && new["tags"] == json(#"["b"]"#))
            #expect(new["title"] == .string("patch me") && new["priority"] == .int(1))
            #expect(new["created"] == doc["created"])
            let updated = try #require(Pattern.time(new["updated"]?.stringValue))
            #expect(updated >= (try #require(Pattern.time(doc["updated"]?.stringValue))))
            #expect(r.header("ETag") == #""2""#)
            let again = try await app.patch(path, json: #"{"priority": 9}"#)
            #expect(again.status == 200)
            #expect(again.object?["_v"] == .int(3) && again.object?["done"] == .bool(true) && again.object?["priority"] == .int(9))
        }
    }

    @Test func patchWithTheCurrentVSucceeds() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "patch v"}"#)
            let r = try await app.patch("/todos/\(doc.string("id"))", json: #"{"title": "patched", "_v": 1}"#)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["_v"] == .int(2) && r.object?["title"] == .string("patched"))
        }
    }

    @Test func patchIsShallowForNestedObjects() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"name": "nested", "owner": {"name": "ann", "age": 3}}"#, in: "lists")
            let r = try await app.patch("/lists/\(doc.string("id"))", json: #"{"owner": {"name": "bob"}}"#)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["owner"] == json(#"{"name": "bob"}"#))
            #expect(r.object?["name"] == .string("nested"))
        }
    }

    @Test func patchMissingDocumentIs404AndCreatesNothing() async throws {
        try await TestApp.run { app in
            let cid = unique("nopatch")
            expectError(try await app.patch("/todos/\(cid)", json: #"{"title": "x"}"#), 404)
            #expect(try await app.get("/todos/\(cid)").status == 404)
        }
    }

    @Test func patchThatBreaksTheSchemaIs422() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "valid"}"#)
            let error = expectError(try await app.patch("/todos/\(doc.string("id"))", json: #"{"done": "yes"}"#), 422, "validation_failed")
            #expect(error["details"]?.arrayValue?.first?.objectValue?["path"] == .string("/done"))
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    // MARK: DELETE

    @Test func deleteAnswersAnEmptyObjectThenGetIs404() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "delete me"}"#)
            let path = "/todos/\(doc.string("id"))"
            let r = try await app.delete(path)
            #expect(r.status == 200)
            #expect(r.header("Content-Type")?.hasPrefix("application/json") == true)
            #expect(r.json == .object(JSONObject()))
            expectError(try await app.get(path), 404)
            expectError(try await app.delete(path), 404)
        }
    }

    @Test func deleteThenRecreateWithTheSameID() async throws {
        try await TestApp.run { app in
            let cid = unique("again")
            #expect(try await app.put("/todos/\(cid)", json: #"{"title": "one"}"#).status == 201)
            #expect(try await app.delete("/todos/\(cid)").status == 200)
            let r = try await app.put("/todos/\(cid)", json: #"{"title": "two"}"#)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.object?["title"] == .string("two"))
        }
    }

    @Test func postWithAnExistingIDIs409() async throws {
        try await TestApp.run { app in
            let cid = unique("dup")
            let first = try await app.create(#"{"id": "\#(cid)", "title": "first"}"#)
            let n = try await app.count()
            let error = expectError(try await app.post("/todos", json: #"{"id": "\#(cid)", "title": "second"}"#), 409)
            #expect(error["code"] == .string("id_taken"))
            #expect(try await app.count() == n)
            #expect(try await app.document(cid) == first)
        }
    }
}
