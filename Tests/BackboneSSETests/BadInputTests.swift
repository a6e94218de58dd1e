import DocumentStore
import Foundation
import Testing

/// Hostile and broken input that the app itself refuses: never a 500, never a partial
/// write (moved from Tests/integration/test_bad_input.py). What the HTTP server decides
/// (body and header limits, broken framing, dropped connections) stays in pytest.
///
/// Every test runs inside `TestApp.unchanged`, as under the pytest fixture of that name.
@Suite struct BadInputTests {
    static let json = [(name: "Content-Type", value: "application/json")]
    static let form = [(name: "Content-Type", value: "application/x-www-form-urlencoded")]

    // MARK: bodies

    @Test(arguments: [
        #"{"title": "#, #"{title: 'x'}"#, #"{"title": "x",}"#, #"{"title": "x"} trailing"#,
        #"{"title": "x"}{"title": "y"}"#, "{\"title\": \"a\u{01}b\"}", #"{"title": "x", "priority": NaN}"#,
        #"{"title": "x", "priority": 01}"#, #"{"title": "\x"}"#, #"{"title": "\u12"}"#, "", "   ", "\u{FEFF}",
    ])
    func malformedJSONIs400(body: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.request("POST", "/todos", body: body, headers: Self.json), 400)
        }
    }

    @Test(arguments: [#"[{"title": "x"}]"#, "[]", #""x""#, "42", "null", "true"])
    func aBodyThatIsNotAnObjectIs400(body: String) async throws {
        try await TestApp.unchanged { app, existing in
            let path = "/todos/\(existing.string("id"))"
            expectError(try await app.request("POST", "/todos", body: body, headers: Self.json), 400)
            expectError(try await app.request("PUT", path, body: body, headers: Self.json), 400)
            expectError(try await app.request("PATCH", path, body: body, headers: Self.json), 400)
        }
    }

    /// `{"title": "<bytes>"}` around bytes that are not UTF-8.
    static func title(_ bytes: [UInt8]) -> [UInt8] { Array(#"{"title": ""#.utf8) + bytes + Array(#""}"#.utf8) }

    @Test(arguments: [
        title([0xFF, 0xFE]),
        title([0xC0, 0xAF]),  // overlong "/"
        title([0xED, 0xA0, 0x80]),  // UTF-8-encoded surrogate
        Array(#"{"title": "ok", ""#.utf8) + [0xFF] + Array(#"": 1}"#.utf8),
        title([0xE2, 0x82]),  // truncated sequence
        title([0xF8, 0x88, 0x80, 0x80, 0x80]),  // 5-byte form
    ])
    func invalidUTF8Is400(body: [UInt8]) async throws {
        try await TestApp.unchanged { app, existing in
            expectError(try await app.request("POST", "/todos", body: body, headers: Self.json), 400)
            expectError(try await app.request("PATCH", "/todos/\(existing.string("id"))", body: body, headers: Self.json), 400)
        }
    }

    @Test func invalidUTF8InAnEmulateJSONFormIs400() async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.request("POST", "/todos", body: "model=%7B%22title%22%3A%22%FF%22%7D", headers: Self.form), 400)
            expectError(try await app.request("POST", "/todos", body: Array("model=".utf8) + [0xFF], headers: Self.form), 400)
        }
    }

    @Test func loneSurrogateEscapeNever500() async throws {
        try await TestApp.unchanged { app, _ in
            // Valid JSON grammar, not valid Unicode: refused.
            let r = try await app.request("POST", "/lists", body: #"{"name": "\ud800"}"#, headers: Self.json)
            #expect(r.status == 400, "\(r.text)")
            expectError(r, 400)
        }
    }

    @Test(arguments: [("[", "]"), (#"{"a":"#, "}")])
    func nesting10000DeepIs400(opener: String, closer: String) async throws {
        try await TestApp.unchanged { app, _ in
            let body =
                #"{"title": "deep", "x": "# + String(repeating: opener, count: 10000) + "1" + String(repeating: closer, count: 10000) + "}"
            expectError(try await app.request("POST", "/todos", body: body, headers: Self.json), 400)
            expectError(try await app.request("POST", "/lists", body: body, headers: Self.json), 400)
        }
    }

    @Test func unclosedNestingIs400() async throws {
        try await TestApp.unchanged { app, _ in
            let body = #"{"a":"# + String(repeating: "[", count: 100_000)
            expectError(try await app.request("POST", "/lists", body: body, headers: Self.json), 400)
        }
    }

    @Test(arguments: [
        #"{"title": "x", "id": 5}"#, #"{"title": "x", "id": ""}"#, #"{"title": "x", "id": "../etc/passwd"}"#,
        #"{"title": "x", "id": ".hidden"}"#, #"{"title": "x", "id": "a/b"}"#,
        #"{"title": "x", "id": "\#(String(repeating: "x", count: 129))"}"#, #"{"title": "x", "id": ["a"]}"#,
    ])
    func badIDsInTheBody(body: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.post("/todos", json: body), 400)
        }
    }

    @Test(arguments: [
        #"{"title": "x", "priority": 1e400}"#,
        #"{"title": "x", "priority": 123456789012345678901234567890}"#,
        #"{"title": "x", "priority": -1e999}"#,
    ])
    func outOfRangeNumbersNever500(body: String) async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.request("POST", "/todos", body: body, headers: Self.json)
            #expect([400, 422].contains(r.status), "\(r.text)")
            expectError(r, r.status)
        }
    }

    /// A repeated member name is refused at any depth (not "last one wins"), and the
    /// message names it.
    @Test(arguments: [
        (#"{"id": "a", "id": "b", "title": "x"}"#, "id"), (#"{"title": "x", "title": "y"}"#, "title"),
        (#"{"title": "x", "meta": {"k": 1, "k": 2}}"#, "k"), (#"{"title": "x", "tags": [{"a": 1, "a": 1}]}"#, "a"),
    ])
    func duplicateMemberNamesAre400(body: String, name: String) async throws {
        try await TestApp.unchanged { app, existing in
            for (method, path) in [
                ("POST", "/todos"), ("PUT", "/todos/\(existing.string("id"))"), ("PATCH", "/todos/\(existing.string("id"))"),
            ] {
                let error = expectError(try await app.request(method, path, body: body, headers: Self.json), 400, "bad_json")
                #expect(error["message"]?.stringValue?.contains(#"duplicate member name "\#(name)""#) == true, "\(error)")
            }
        }
    }

    /// A member name holding U+0000, at any depth, is refused whatever the store: BSON
    /// names are C strings, so the MongoDB store lost such a field and, when its value
    /// was an object or an array, aborted the server (found by schemathesis).
    @Test(arguments: [
        #"{"title": "x", "a\u0000b": 1}"#, #"{"title": "x", "meta": {"k\u0000": {"c": 1}}}"#,
        #"{"title": "x", "tags": ["t"], "list": [{"\u0000": [1]}]}"#,
    ])
    func aNULInAMemberNameIs400(body: String) async throws {
        try await TestApp.unchanged { app, existing in
            for (method, path) in [
                ("POST", "/todos"), ("PUT", "/todos/\(existing.string("id"))"), ("PATCH", "/todos/\(existing.string("id"))"),
            ] {
                let error = expectError(try await app.request(method, path, body: body, headers: Self.json), 400, "bad_json")
                #expect(error["message"]?.stringValue?.contains("NUL") == true, "\(error)")
            }
            let form = "model=" + (body.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            expectError(try await app.request("POST", "/todos", body: form, headers: Self.form), 400, "bad_json")
        }
    }

    /// The top-level names the MongoDB store keeps for itself are refused on every
    /// store: there a client's `_id` lost the document, `_c` broke the creation order
    /// and `$x` was a 500; SQLite stored them as data. Nested, they are plain data.
    @Test(arguments: ["_id", "_c", "$x", "$"])
    func aReservedTopLevelNameIs400(name: String) async throws {
        try await TestApp.unchanged { app, existing in
            let body = #"{"title": "x", "\#(name)": 5}"#
            for (method, path) in [
                ("POST", "/todos"), ("PUT", "/todos/\(existing.string("id"))"), ("PATCH", "/todos/\(existing.string("id"))"),
            ] {
                let error = expectError(try await app.request(method, path, body: body, headers: Self.json), 400, "bad_json")
                #expect(error["message"]?.stringValue?.contains("reserved") == true, "\(error)")
            }
        }
        try await TestApp.run { app in
            let r = try await app.post("/lists", json: #"{"meta": {"\#(name)": 5}}"#)
            #expect(r.status == 201, "\(r.text)")
        }
    }

    /// A non-zero number too small for a double is refused, as one too large is: it
    /// must not be stored as 0.
    @Test(arguments: ["1e-999999", "-1e-400", "1e999999"])
    func numbersOutOfRangeAre400(number: String) async throws {
        try await TestApp.unchanged { app, existing in
            let body = #"{"title": "x", "priority": \#(number)}"#
            let error = expectError(try await app.request("POST", "/todos", body: body, headers: Self.json), 400, "bad_json")
            #expect(error["message"]?.stringValue?.contains("number out of range") == true, "\(error)")
            let patch = #"{"score": \#(number)}"#
            expectError(try await app.request("PATCH", "/todos/\(existing.string("id"))", body: patch, headers: Self.json), 400, "bad_json")
        }
    }

    // MARK: ids and paths

    @Test(
        arguments: [
            "/todos/a%2Fb", "/todos/..", "/todos/.", "/todos/%2E%2E", "/todos/%2e", "/todos/..%2F..%2Fetc%2Fpasswd",
            "/todos/.hidden", "/todos/a%00b", "/todos/%C3%A9", "/todos/a+b", "/todos/a%20b", "/todos/%FF", "/todos/%ZZ",
            "/todos/" + String(repeating: "x", count: 1000), "/todos/" + String(repeating: "x", count: 129),
            "/todos/../todos/x", "/todos/x/y", "/todos/%2F",
        ], ["GET", "PUT", "PATCH", "DELETE", "POST"])
    func badIDsAre400Or404AndWriteNothing(path: String, method: String) async throws {
        try await TestApp.unchanged { app, _ in
            var headers: [(name: String, value: String)] = []
            var body = ""
            if method != "GET" {
                body = #"{"title": "should not exist"}"#
                headers = Self.json
            }
            if method == "POST" { headers.append(("X-HTTP-Method-Override", "PUT")) }
            let r = try await app.request(method, path, body: body, headers: headers)
            #expect([400, 404, 405].contains(r.status), "\(r.status) \(r.text)")
            if !r.body.isEmpty {
                #expect(r.error?["status"] == .int(Int64(r.status)), "\(r.text)")
                #expect(r.error?["code"]?.stringValue?.isEmpty == false && r.error?["message"]?.stringValue?.isEmpty == false)
            }
        }
    }

    @Test func anIDOf128CharactersIsFine() async throws {
        try await TestApp.unchanged { app, _ in
            let cid = String(repeating: "k", count: 128)
            let r = try await app.put("/todos/\(cid)", json: #"{"title": "long id"}"#)
            #expect(r.status == 201, "\(r.text)")
            #expect(try await app.document(cid)?["id"] == .string(cid))
            #expect(try await app.delete("/todos/\(cid)").status == 200)
        }
    }

    @Test(arguments: ["/nope", "/nope/1", "/events-x/1", "/todos-x", String(repeating: "/z", count: 3)])
    func unknownCollectionIs404AndWritesNothing(path: String) async throws {
        try await TestApp.unchanged { app, _ in
            for method in ["POST", "PUT", "PATCH", "DELETE", "GET"] {
                let r =
                    method == "GET"
                    ? try await app.request(method, path)
                    : try await app.request(method, path, json: #"{"title": "x"}"#)
                #expect([404, 405].contains(r.status), "\(method) \(path) \(r.status)")
                expectError(r, r.status)
            }
        }
    }

    @Test func aPathOver4096BytesIsBadTargetAndSaysWhy() async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.get("/todos/" + String(repeating: "x", count: 5000))
            let error = expectError(r, 400, "bad_target")
            #expect(error["message"]?.stringValue?.contains("4096") == true, "\(error)")
        }
    }

    // MARK: content types and headers

    @Test(arguments: [
        "text/plain", "text/plain; charset=utf-8", "application/xml", "multipart/form-data; boundary=x",
        "application/octet-stream", "application/jsonp", "image/png",
    ])
    func unsupportedContentTypeIs415(contentType: String) async throws {
        try await TestApp.unchanged { app, existing in
            let body = #"{"title": "x"}"#
            let path = "/todos/\(existing.string("id"))"
            let headers = [(name: "Content-Type", value: contentType)]
            expectError(try await app.request("POST", "/todos", body: body, headers: headers), 415)
            expectError(try await app.request("PUT", path, body: body, headers: headers), 415)
            expectError(try await app.request("PATCH", path, body: body, headers: headers), 415)
        }
    }

    /// A media type is compared case-insensitively, without its parameters and the
    /// spaces around it.
    @Test(arguments: ["application/json", "Application/JSON", " application/json ; charset=utf-8", "APPLICATION/json;charset=UTF-8"])
    func jsonContentTypesAreAcceptedHoweverWritten(contentType: String) async throws {
        let app = try TestApp()
        let r = try await app.request("POST", "/todos", body: #"{"title": "typed"}"#, headers: [(name: "Content-Type", value: contentType)])
        #expect(r.status == 201, "\(contentType): \(r.status)")
    }

    @Test func aWriteWithoutContentTypeIs415() async throws {
        try await TestApp.unchanged { app, existing in
            let body = Array(#"{"title": "untyped"}"#.utf8)
            let path = "/todos/\(existing.string("id"))"
            for (method, target) in [("POST", "/todos"), ("PUT", path), ("PATCH", path)] {
                expectError(try await app.request(method, target, body: body), 415, "unsupported_media_type")
            }
        }
    }

    @Test func badClientIDIs400() async throws {
        try await TestApp.unchanged { app, _ in
            for value in [String(repeating: "x", count: 129), "tab\u{7F}", "a b", ""] {
                expectError(try await app.post("/todos", json: #"{"title": "x"}"#, headers: [("X-Client-Id", value)]), 400)
            }
        }
    }
}
