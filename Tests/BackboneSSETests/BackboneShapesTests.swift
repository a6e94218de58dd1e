import DocumentStore
import Testing

/// The exact writes that stock Backbone.sync (1.x) and jQuery (3.x) send (moved from
/// Tests/integration/test_backbone_shapes.py; the query cases, whose results the store
/// decides, stay there and run on MongoDB too).
///
/// Backbone.sync: JSON bodies with `Content-Type: application/json`; `emulateHTTP`
/// turns PUT/PATCH/DELETE into POST with `X-HTTP-Method-Override` (and a `_method`
/// field with `emulateJSON`); `emulateJSON` sends `application/x-www-form-urlencoded`
/// with `model=<json>`.
@Suite struct BackboneShapesTests {
    /// Headers jQuery's $.ajax adds to every Backbone request.
    static let jq = [
        (name: "Accept", value: "application/json, text/javascript, */*; q=0.01"), (name: "X-Requested-With", value: "XMLHttpRequest"),
    ]
    static let jsonType = [(name: "Content-Type", value: "application/json")]
    static let formType = [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=UTF-8")]

    static func override(_ method: String) -> [(name: String, value: String)] { [("X-HTTP-Method-Override", method)] }

    /// The form bodies below are what jQuery writes: its reference string (as in
    /// test_backbone_shapes.py's `test_jquery_param_matches_jquery`).
    @Test func formEncodingMatchesJQuery() {
        #expect(formEncode([("model", #"{"a": 1}"#)]) == "model=%7B%22a%22%3A%201%7D")
        #expect(formEncode([("model", "&= +"), ("_method", "PUT")]) == "model=%26%3D%20%2B&_method=PUT")
    }

    @Test func backboneCRUDRoundTrip() async throws {
        try await TestApp.run { app in
            // model.save() on a new model: POST with the JSON attributes.
            var r = try await app.request("POST", "/todos", body: #"{"title": "Milk", "done": false}"#, headers: Self.jq + Self.jsonType)
            #expect(r.status == 201, "\(r.text)")
            var attrs = try #require(r.object)
            let path = "/todos/\(attrs.string("id"))"
            // Backbone does set(parse(resp)): the model now has id, _v, timestamps.
            // model.save({title: ...}): PUT with every attribute, server fields included.
            attrs["title"] = .string("Oat milk")
            r = try await app.request("PUT", path, body: attrs.text, headers: Self.jq + Self.jsonType)
            #expect(r.status == 200, "\(r.text)")
            attrs = try #require(r.object)
            #expect(attrs["title"] == .string("Oat milk") && attrs["_v"] == .int(2))
            // model.save({done: true}, {patch: true}): PATCH with only those attributes.
            r = try await app.request("PATCH", path, body: #"{"done": true}"#, headers: Self.jq + Self.jsonType)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["done"] == .bool(true) && r.object?["title"] == .string("Oat milk") && r.object?["_v"] == .int(3))
            // model.fetch()
            r = try await app.get(path, headers: Self.jq)
            #expect(r.status == 200 && r.object?["_v"] == .int(3))
            // model.destroy(): DELETE without a body; jQuery needs a JSON answer.
            r = try await app.delete(path, headers: Self.jq)
            #expect(r.status == 200 && r.json == .object(JSONObject()))
            #expect(try await app.get(path).status == 404)
        }
    }

    @Test func staleBackboneSaveIsRefused() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "two tabs"}"#)
            let path = "/todos/\(doc.string("id"))"
            #expect(try await app.put(path, json: doc.with([("title", .string("from A"))]).text).status == 200)
            let error = expectError(try await app.put(path, json: doc.with([("title", .string("from B"))]).text), 409)
            #expect(error["current"]?.objectValue?["title"] == .string("from A"))
            #expect(try await app.document(doc.string("id"))?["title"] == .string("from A"))
        }
    }

    @Test func jsonContentTypeWithCharset() async throws {
        try await TestApp.run { app in
            let r = try await app.request(
                "POST", "/todos", body: #"{"title": "charset"}"#, headers: [("Content-Type", "application/json; charset=UTF-8")])
            #expect(r.status == 201, "\(r.text)")
        }
    }

    // MARK: emulateHTTP: POST + X-HTTP-Method-Override, JSON body

    @Test func emulateHTTPPut() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "emulate put", "priority": 1}"#)
            let sent = doc.with([("title", .string("put via POST"))]).text
            let r = try await app.request(
                "POST", "/todos/\(doc.string("id"))", body: sent, headers: Self.jq + Self.jsonType + Self.override("PUT"))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["title"] == .string("put via POST") && r.object?["_v"] == .int(2))
            #expect(try await app.document(doc.string("id"))?["title"] == .string("put via POST"))
        }
    }

    @Test func emulateHTTPPatch() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "emulate patch", "priority": 1}"#)
            let r = try await app.request(
                "POST", "/todos/\(doc.string("id"))", body: #"{"priority": 2}"#, headers: Self.jq + Self.jsonType + Self.override("PATCH"))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["priority"] == .int(2) && r.object?["title"] == .string("emulate patch") && r.object?["_v"] == .int(2))
        }
    }

    @Test func emulateHTTPDelete() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "emulate delete"}"#)
            let r = try await app.request("POST", "/todos/\(doc.string("id"))", headers: Self.jq + Self.override("DELETE"))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.json == .object(JSONObject()))
            #expect(try await app.get("/todos/\(doc.string("id"))").status == 404)
        }
    }

    @Test func emulateHTTPPutCreatesWithClientID() async throws {
        try await TestApp.run { app in
            let cid = unique("emu")
            let r = try await app.request(
                "POST", "/todos/\(cid)", body: #"{"title": "created"}"#, headers: Self.jsonType + Self.override("PUT"))
            #expect(r.status == 201, "\(r.text)")
            #expect(r.object?["id"] == .string(cid))
        }
    }

    @Test func emulateHTTPOverrideMustBeAWriteMethod() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "override"}"#)
            let r = try await app.request("POST", "/todos/\(doc.string("id"))", headers: Self.override("TRACE"))
            #expect([400, 405].contains(r.status), "\(r.text)")
            expectError(r, r.status)
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    // MARK: emulateJSON: form-encoded model=<json>

    @Test func emulateJSONCreate() async throws {
        try await TestApp.run { app in
            let body = formEncode([("model", #"{"title": "form & friends = ok", "tags": ["x y"]}"#)])
            let r = try await app.request("POST", "/todos", body: body, headers: Self.jq + Self.formType)
            #expect(r.status == 201, "\(r.text)")
            let doc = try #require(r.object)
            #expect(doc["title"] == .string("form & friends = ok") && doc["tags"] == json(#"["x y"]"#) && doc["done"] == .bool(false))
            #expect(try await app.document(doc.string("id")) == doc)
        }
    }

    @Test func emulateJSONCreateWithPlusForSpaces() async throws {
        try await TestApp.run { app in
            // jQuery 1.x/2.x wrote spaces as +.
            let body = formEncode([("model", #"{"title": "plus sign + space"}"#)]).replacingOccurrences(of: "%20", with: "+")
            let r = try await app.request("POST", "/todos", body: body, headers: Self.formType)
            #expect(r.status == 201, "\(r.text)")
            #expect(r.object?["title"] == .string("plus sign + space"))
        }
    }

    @Test func emulateJSONPutWithoutEmulateHTTP() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "ej put"}"#)
            let body = formEncode([("model", doc.with([("title", .string("ej put 2"))]).text)])
            let r = try await app.request("PUT", "/todos/\(doc.string("id"))", body: body, headers: Self.formType)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["title"] == .string("ej put 2"))
        }
    }

    @Test func emulateJSONAndHTTPPut() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "both put"}"#)
            // Backbone: data = {model: json}; data._method = 'PUT'; header X-HTTP-Method-Override.
            let body = formEncode([("model", doc.with([("title", .string("both put 2"))]).text), ("_method", "PUT")])
            let r = try await app.request(
                "POST", "/todos/\(doc.string("id"))", body: body, headers: Self.jq + Self.formType + Self.override("PUT"))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["title"] == .string("both put 2") && r.object?["_v"] == .int(2))
        }
    }

    @Test func emulateJSONAndHTTPPatch() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "both patch", "priority": 4}"#)
            let body = formEncode([("model", #"{"done": true}"#), ("_method", "PATCH")])
            let r = try await app.request("POST", "/todos/\(doc.string("id"))", body: body, headers: Self.formType + Self.override("PATCH"))
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["done"] == .bool(true) && r.object?["priority"] == .int(4))
        }
    }

    @Test func emulateJSONAndHTTPDelete() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "both delete"}"#)
            let r = try await app.request(
                "POST", "/todos/\(doc.string("id"))", body: "_method=DELETE", headers: Self.formType + Self.override("DELETE"))
            #expect(r.status == 200, "\(r.text)")
            #expect(try await app.get("/todos/\(doc.string("id"))").status == 404)
        }
    }

    /// A proxy that strips X-HTTP-Method-Override: `_method` in the form body decides.
    @Test func methodFormFieldAlone() async throws {
        try await TestApp.run { app in
            let doc = try await app.create(#"{"title": "field only", "priority": 1}"#)
            let body = formEncode([("model", #"{"priority": 8}"#), ("_method", "PATCH")])
            let r = try await app.request("POST", "/todos/\(doc.string("id"))", body: body, headers: Self.formType)
            #expect(r.status == 200, "\(r.text)")
            #expect(r.object?["priority"] == .int(8) && r.object?["title"] == .string("field only") && r.object?["_v"] == .int(2))
            let doc2 = try await app.create(#"{"title": "field only delete"}"#)
            let deleted = try await app.request("POST", "/todos/\(doc2.string("id"))", body: "_method=DELETE", headers: Self.formType)
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(try await app.get("/todos/\(doc2.string("id"))").status == 404)
        }
    }

    @Test func emulateJSONValidationAndBadModel() async throws {
        try await TestApp.run { app in
            let n = try await app.count()
            let error = expectError(
                try await app.request("POST", "/todos", body: formEncode([("model", #"{"title": ""}"#)]), headers: Self.formType), 422)
            #expect(error["details"]?.arrayValue?.first?.objectValue?["path"] == .string("/title"))
            expectError(try await app.request("POST", "/todos", body: "model=%7Bnot-json", headers: Self.formType), 400)
            expectError(try await app.request("POST", "/todos", body: "title=plain", headers: Self.formType), 400)
            #expect(try await app.count() == n)
        }
    }

    @Test func xClientIDHeaderIsAcceptedOnWrites() async throws {
        try await TestApp.run { app in
            let r = try await app.post("/todos", json: #"{"title": "tabbed"}"#, headers: [("X-Client-Id", "tab-9")])
            #expect(r.status == 201)
            #expect(r.object?["X-Client-Id"] == nil && r.object?["origin"] == nil)
        }
    }
}
