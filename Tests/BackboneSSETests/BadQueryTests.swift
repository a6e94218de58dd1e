@testable import BackboneSSE
import DocumentStore
import Testing

/// Query strings, percent-escapes and form bodies that the app refuses (moved from
/// Tests/integration/test_bad_input.py). Operators outside the whitelist never reach a
/// store. Each runs inside `TestApp.unchanged`, as under the pytest fixture.
@Suite struct BadQueryTests {
    /// `GET /todos` with one parameter, encoded as a browser would.
    static func list(_ name: String, _ value: String) -> String { "/todos?" + formEncode([(name, value)]) }

    @Test(arguments: [
        #"{"$where": "sleep(1000)"}"#,
        #"{"$function": {"body": "function(){return true}", "args": [], "lang": "js"}}"#,
        #"{"title": {"$regex": ".*"}}"#,
        #"{"title": {"$regex": ".*", "$options": "i"}}"#,
        #"{"$expr": {"$eq": ["$title", "x"]}}"#,
        #"{"$text": {"$search": "x"}}"#,
        #"{"title": {"$not": {"$eq": "x"}}}"#,
        #"{"tags": {"$elemMatch": {"$eq": "a"}}}"#,
        #"{"tags": {"$size": 1}}"#,
        #"{"tags": {"$all": ["a"]}}"#,
        #"{"priority": {"$mod": [2, 0]}}"#,
        #"{"title": {"$type": "string"}}"#,
        #"{"$jsonSchema": {}}"#,
        #"{"$or": [{"title": {"$regex": "a"}}]}"#,
        #"{"$and": [{"$or": [{"$where": "1"}]}]}"#,
        #"{"$nor": [{"done": true}]}"#,
        #"{"$comment": "x"}"#,
    ])
    func unknownOperatorsAre400(where filter: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.get(Self.list("where", filter)), 400, "bad_query")
            expectError(try await app.get(Self.list("query", filter)), 400, "bad_query")
        }
    }

    @Test(arguments: [
        "where[$where]=sleep(1000)", "where[title][$regex]=.*", "where[$function][body]=x",
        "where[$or][0][title][$regex]=a", "query[title][$regex]=a", "title[$regex]=a", "priority[$where]=1",
    ])
    func unknownOperatorsInBracketFormAre400(query: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.get("/todos?" + query), 400)
        }
    }

    @Test(arguments: [
        ("limit", "abc"), ("limit", "-1"), ("limit", "1.5"), ("limit", ""),
        ("limit", "99999999999999999999999"), ("limit[]", "1"),
        ("skip", "-1"), ("skip", "abc"), ("skip", "1e3"),
        ("sort", "title;DROP TABLE changes"), ("sort", "ti'tle"), ("sort[title]", "up"),
        ("sort", #"{"title": 2}"#), ("sort", "{bad"),
        ("where", "{bad"), ("where", "[1]"), ("where", #""x""#), ("where", "5"),
        ("where", #"{"title' OR 1=1 --": 1}"#),
        ("where", #"{"a..b": 1}"#), ("where", #"{"": 1}"#), ("where", #"{"a.": 1}"#),
        ("where", #"{"priority": {"$in": 5}}"#), ("where", #"{"$or": []}"#), ("where", #"{"$or": {"a": 1}}"#),
        ("where", #"{"$and": [1]}"#), ("where", #"{"done": {"$gt": true}}"#), ("where", #"{"done": {"$exists": "maybe"}}"#),
        ("where", #"{"priority": {"$gt": 1, "plain": 2}}"#),
        ("done", "maybe"), ("priority", "abc"), ("priority", "1.5"),
        ("where[priority][$gte]", "two"),
    ])
    func badQueryParametersAre400(name: String, value: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.get(Self.list(name, value)), 400)
        }
    }

    @Test func deeplyNestedWhereIs400() async throws {
        try await TestApp.unchanged { app, _ in
            // Deep JSON (past the parser's limit), and deep $and (past the filter's limit).
            let deepJSON =
                #"{"priority": {"$in": "# + String(repeating: "[", count: 1000) + "1" + String(repeating: "]", count: 1000) + "}}"
            expectError(try await app.get(Self.list("where", deepJSON)), 400)
            let deepAnd = String(repeating: #"{"$and": ["#, count: 40) + #"{"done": true}"# + String(repeating: "]}", count: 40)
            expectError(try await app.get(Self.list("where", deepAnd)), 400)
            expectError(try await app.get("/todos?where" + String(repeating: "[a]", count: 40) + "=1"), 400)
        }
    }

    /// `where` is parsed as strictly as a body: a repeated name or an underflowing
    /// number is a 400, not a silently different query.
    @Test(arguments: [#"{"done": true, "done": false}"#, #"{"$or": [{"title": {"$gt": "a", "$gt": "b"}}]}"#, #"{"priority": 1e-999}"#])
    func ambiguousWhereIs400(where json: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.get(Self.list("where", json)), 400, "bad_query")
        }
    }

    /// A NUL inside a `where` string: SQLite compared "abc\u0000zz" as "abc", so the list
    /// found the document titled "abc" (a stream, comparing in memory, did not).
    @Test(arguments: [
        #"{"title": "abc\u0000zz"}"#, #"{"title": {"$in": ["x", "abc\u0000"]}}"#, #"{"$or": [{"title": {"$gt": "\u0000"}}]}"#,
    ])
    func aNulInAWhereStringIs400(where json: String) async throws {
        try await TestApp.run { app in
            _ = try await app.create(#"{"title": "abc"}"#)
            expectError(try await app.get(Self.list("where", json)), 400, "bad_query")
        }
    }

    /// A filter of 1,000 conditions was a 500 on SQLite (an expression deeper than it
    /// takes): the count is bounded, whichever form brings the conditions.
    @Test func aFilterOfMoreThanTheBoundedConditionsIs400() async throws {
        try await TestApp.unchanged { app, existing in
            let most = ListQueryParser.maxConditions
            func equalities(_ n: Int) -> String { (0..<n).map { "f\($0)=1" }.joined(separator: "&") }
            func clauses(_ n: Int) -> String { (0..<n).map { #"{"f\#($0)": 1}"# }.joined(separator: ",") }
            let allowed = try await app.get("/todos?title=\(existing.string("title"))&" + equalities(most - 1))
            #expect(allowed.status == 200 && allowed.array?.isEmpty == true, "\(allowed.text)")
            let title = existing.string("title")
            let anyOf = try await app.get(Self.list("where", #"{"$or": [{"title": "\#(title)"}, \#(clauses(most - 1))]}"#))
            #expect(anyOf.array?.count == 1, "\(anyOf.text)")
            for path in [
                "/todos?" + equalities(most + 1), "/todos?" + equalities(1_000),
                Self.list("where", #"{"$and": [\#(clauses(most))]}"#) + "&title=x",
                Self.list("where", #"{"$or": [\#(clauses(1_000))]}"#),
            ] {
                let error = expectError(try await app.get(path), 400, "bad_query")
                #expect(error["message"]?.stringValue?.contains("at most \(most) conditions") == true, "\(error)")
            }
        }
    }

    /// Thousands of `$in` / `$nin` values (999 and more were a 500 on SQLite).
    @Test func longInListsWork() async throws {
        try await TestApp.unchanged { app, existing in
            let values = (0...1_200).map(String.init).joined(separator: ",")
            let found = try await app.get(Self.list("where", #"{"priority": {"$in": [\#(values)]}}"#))
            #expect(found.status == 200, "\(found.text)")
            #expect(found.array?.compactMap { $0.objectValue?["id"] }.contains(existing["id"]!) == true, "\(found.text)")
            let rest = try await app.get(Self.list("where", #"{"priority": {"$nin": [\#(values)]}}"#))
            #expect(rest.status == 200, "\(rest.text)")
            #expect(rest.array?.compactMap { $0.objectValue?["id"] }.contains(existing["id"]!) == false, "\(rest.text)")
        }
    }

    // MARK: percent-escapes (sent as they are: no client re-quotes a lone "%" here)

    /// A bad percent-escape or invalid UTF-8: the documented code, and a message that
    /// says where the fault is.
    func expectEncodingError(_ r: TestResponse, _ code: String, _ place: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let error = expectError(r, 400, code, sourceLocation: sourceLocation)
        #expect(error["message"]?.stringValue?.contains(place) == true, "\(error)", sourceLocation: sourceLocation)
    }

    @Test(arguments: [
        "where=%ZZ", "title=%", "title=%F", "title=%FF", "title=%C3%28", "%FF=1", "where=%7B%22title%22%3A%22%FF%22%7D",
    ])
    func badEscapesInTheQueryAre400(query: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectEncodingError(try await app.get("/todos?" + query), "bad_request", "the query string")
        }
    }

    @Test(arguments: ["/todos/%ZZ", "/todos/%FF", "/todos/%C0%AF", "/todos/a%"])
    func badEscapesInThePathAre400AndSaySo(path: String) async throws {
        try await TestApp.unchanged { app, _ in
            expectEncodingError(try await app.get(path), "bad_request", "the path")
        }
    }

    @Test(arguments: ["model=%FF", "model=%zz", "model=%7B%22title%22%3A%22%FF%22%7D"])
    func badEscapesInAFormBodyAreBadBody(body: String) async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.request("POST", "/todos", body: body, headers: [("Content-Type", "application/x-www-form-urlencoded")])
            expectEncodingError(r, "bad_body", "the form body")
        }
    }

    /// `%00` ends a string where it reaches C: `DELETE /todos/ID%00xyz` deleted `ID`, and
    /// `title=T%00xyz` matched the title `T` in SQLite. Refused, saying where.
    @Test func aNulInAPathSegmentIs400() async throws {
        try await TestApp.unchanged { app, existing in
            let id = existing.string("id")
            for method in ["GET", "DELETE"] {
                let r = try await app.request(method, "/todos/\(id)%00xyz")
                expectEncodingError(r, "bad_request", "the path")
                #expect(r.text.contains("NUL"), "\(r.text)")
            }
            let r = try await app.request(
                "PUT", "/todos/\(id)%00", body: #"{"title": "x"}"#, headers: [("Content-Type", "application/json")])
            expectEncodingError(r, "bad_request", "the path")
        }
    }

    @Test(arguments: ["title=target%00xyz", "where%5Btitle%5D=target%00", "where=%7B%22title%22%3A%22target%00%22%7D", "a%00b=1"])
    func aNulInTheQueryIs400(query: String) async throws {
        try await TestApp.unchanged { app, _ in
            let r = try await app.get("/todos?" + query)
            expectEncodingError(r, "bad_request", "the query string")
            #expect(r.text.contains("NUL"), "\(r.text)")
        }
    }

    @Test func aMalformedBracketNameIsBadRequest() async throws {
        try await TestApp.unchanged { app, _ in
            expectError(try await app.get("/todos?where%5Bbad=1"), 400, "bad_request")
        }
    }
}
