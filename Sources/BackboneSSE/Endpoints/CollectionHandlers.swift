import DocumentStore
import Foundation
import HTTPServer

/// Whole list answers by request target, valid while the store's head stays.
typealias ListAnswers = HeadCache<ExactText, HTTPResponse>

/// The REST answers of DESIGN.md §1 for one collection: requests in, responses out.
struct CollectionHandlers {
    let service: CollectionService
    let maxLimit: Int
    /// What the request's caller may do here (everything without an `auth` block).
    var caller: Caller = .unrestricted

    /// A write's answer, or why there is none.
    typealias Answer = @Sendable (Result<HTTPResponse, ServiceError>) -> Void

    /// The query string of a list or a collection stream, by this collection's schema
    /// and page cap.
    func parse(_ pairs: [(name: String, value: String)]) throws(APIError) -> ListRequest {
        try ListQueryParser.parse(pairs, schema: service.config.schema, maxLimit: service.config.maxLimit ?? maxLimit)
    }

    /// `GET /{c}` through `answers`: the same target at the same head gets the same
    /// answer, so a page that many clients load is read and encoded once per write. Only
    /// for stores whose head covers every acknowledged write (a client must see its own).
    /// A query that runs past `budget` may be stopped (`ServiceError.overBudget`).
    func list(
        _ request: HTTPRequest, path: String, query pairs: [(name: String, value: String)], answers: ListAnswers,
        within budget: Duration? = nil
    ) throws -> HTTPResponse {
        guard let head = try service.cacheableHead() else { return try list(request, path: path, query: pairs, within: budget).response }
        // `Cache-Control: no-cache` asks for a fresh answer: never needed for
        // correctness (an answer is only reused at the head it was read at), but it lets
        // a benchmark or a doubtful operator measure the query itself.
        let fresh = request.header("Cache-Control")?.contains("no-cache") == true
        let key = Self.answerKey(request.target, caller.read)
        if !fresh, let answer = answers.lookup(key, head: head) { return answer }
        let (response, cursor) = try list(request, path: path, query: pairs, within: budget)
        answers.store(key, head: cursor.sequence, value: response, cost: response.body.count + 512)
        return response
    }

    /// The cached answer's key: the target, and for a caller who reads only its own
    /// documents its `sub` too (length-prefixed, so no two callers' keys can meet), so
    /// that one user's list is never another's answer.
    static func answerKey(_ target: String, _ read: Permission) -> ExactText {
        guard case .owned(let subject) = read else { return ExactText(target) }
        return ExactText("\(subject.utf8.count):\(subject)\(target)")
    }

    /// A page of documents, the stream cursor it reflects, and paging headers when the
    /// page is not the whole result.
    private func list(
        _ request: HTTPRequest, path: String, query pairs: [(name: String, value: String)], within budget: Duration?
    ) throws
        -> (response: HTTPResponse, cursor: ChangeCursor)
    {
        let query = try parse(pairs).query
        let result = try service.list(query, as: caller, within: budget)
        var body: [UInt8] = [UInt8(ascii: "[")]
        for (i, document) in result.documents.enumerated() {
            if i > 0 { body.append(UInt8(ascii: ",")) }
            body.append(contentsOf: document.json.utf8)
        }
        body.append(UInt8(ascii: "]"))
        // Vary: the same URL streams for Accept: text/event-stream.
        var headers: [(name: String, value: String)] = [("X-Stream-Cursor", result.cursor.description), ("Vary", "Accept")]
        if let total = result.total {
            headers.append(("X-Total-Count", String(total)))
            var links: [String] = []
            if query.skip + result.documents.count < total, query.limit > 0 {
                links.append("<\(pageURL(path, pairs, skip: query.skip + query.limit, limit: query.limit))>; rel=\"next\"")
            }
            if query.skip > 0 {
                links.append("<\(pageURL(path, pairs, skip: max(0, query.skip - query.limit), limit: query.limit))>; rel=\"prev\"")
            }
            if !links.isEmpty { headers.append(("Link", links.joined(separator: ", "))) }
        }
        var response = Responses.json(200, body, headers)
        response.omittable = ["Link"]  // it repeats the query: a long one may not fit the connection's memory
        return (response, result.cursor)
    }

    /// `GET /{c}/{id}`, with `If-None-Match`.
    func read(_ request: HTTPRequest, id: String) throws(ServiceError) -> HTTPResponse {
        let (document, cursor) = try service.get(id, as: caller)
        if let ifNoneMatch = request.header("If-None-Match") {
            let tags = Responses.entityTags(ifNoneMatch)
            if tags.any || tags.versions.contains(document.version) {
                return HTTPResponse(status: 304, headers: [("ETag", Responses.etag(document.version))])
            }
        }
        var response = Responses.document(200, document)
        response.headers.append(("X-Stream-Cursor", cursor.description))
        response.headers.append(("Vary", "Accept"))
        return response
    }

    func create(_ body: JSONObject, origin: String?, respond: @escaping Answer) {
        let collection = service.name
        service.create(body, origin: origin, as: caller) { result in
            respond(result.map { self.answer($0, created: true, location: { "/\(collection)/\(Self.encode($0))" }) })
        }
    }

    func replace(_ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, respond: @escaping Answer) {
        let collection = service.name
        service.replace(id, body, condition: condition, origin: origin, as: caller) { result in
            respond(
                result.map { written in
                    self.answer(written, created: written.change.operation == .create, location: { "/\(collection)/\(Self.encode($0))" })
                })
        }
    }

    func patch(_ id: String, _ body: JSONObject, condition: WriteCondition, origin: String?, respond: @escaping Answer) {
        service.patch(id, body, condition: condition, origin: origin, as: caller) { result in
            respond(result.map { self.answer($0, created: false, location: nil) })
        }
    }

    func delete(_ id: String, condition: WriteCondition, origin: String?, respond: @escaping Answer) {
        service.delete(id, condition: condition, origin: origin, as: caller) { result in
            // A JSON body, not an empty 200: jQuery rejects an empty body as a parse error.
            respond(result.map { _ in Responses.json(200, Array("{}".utf8)) })
        }
    }

    /// The written document: a new one whole (all of it is what the caller sent, or the
    /// server set for it), a changed one as much as the caller may read (`shown`).
    func answer(_ written: WriteResult, created: Bool, location: ((String) -> String)?) -> HTTPResponse {
        guard let stored = written.document else { return Responses.json(200, Array("{}".utf8)) }
        let document = created ? stored : service.shown(stored, to: caller)
        var response = Responses.document(created ? 201 : 200, document)
        if created, let location { response.headers.append(("Location", location(document.id))) }
        return response
    }

    /// Percent-encodes all but RFC 3986's unreserved characters. Done on bytes:
    /// Foundation's addingPercentEncoding showed up in profiles of paged lists.
    static func encode(_ s: String) -> String {
        // Ids and most query values need no escape: the string as it is, uncopied.
        let plain = s.utf8.withContiguousStorageIfAvailable { bytes in bytes.allSatisfy(isUnreserved) }
        if plain == true { return s }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            if isUnreserved(b) {
                out.append(b)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(b >> 4)])
                out.append(hex[Int(b & 0xF)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    private static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            true
        default: false
        }
    }

    /// The same query with another skip and limit, for `Link`.
    func pageURL(_ path: String, _ pairs: [(name: String, value: String)], skip: Int, limit: Int) -> String {
        // Not a ticket: a credential has no place in a link (a list never reads one anyway).
        var parts = pairs.filter { $0.name != "skip" && $0.name != "limit" && $0.name != "_" && $0.name != "ticket" }
            .map { "\(Self.encode($0.name))=\(Self.encode($0.value))" }
        parts.append("skip=\(skip)")
        parts.append("limit=\(limit)")
        return path + "?" + parts.joined(separator: "&")
    }
}
