import DocumentStore
import HTTPServer

/// The rows of DESIGN.md §1 on `/{collection}` and `/{collection}/{id}`; the router has
/// matched the collection (and checked the id) before any of these runs.
enum CollectionRoutes {
    /// `GET /{c}`: the list, or with `Accept: text/event-stream` the collection's stream.
    static func list(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let handlers = try handlers(request)
        if StreamHandlers.wantsStream(request.http) {
            let parsed = try handlers.parse(request.target.query)
            let filter = parsed.query.filter == .all ? nil : parsed.query.filter
            var subscription = Subscription(collections: [handlers.service.name], documentID: nil, filter: filter)
            subscription.owners = request.ownerConditions(on: handlers.service)
            subscription.expires = request.identity?.expires
            return respond(try StreamHandlers(hub: request.app.hub).open(request.http, subscription, since: parsed.since))
        }
        let list = { @Sendable (budget: Duration?) throws -> HTTPResponse in
            try handlers.list(
                request.http, path: request.target.path, query: request.target.query, answers: request.configured.listAnswers,
                within: budget)
        }
        do {
            return respond(try list(request.app.options.listBudget))
        } catch ServiceError.overBudget {
            // Too slow for this server thread, whose other connections (streams among
            // them) wait while it runs: run it whole on the slow-list lane instead.
            request.app.metrics.listMovedToSlowLane()
            request.app.slowLists.async {
                do { respond(try list(nil)) } catch { respond(request.errorResponse(error)) }
            }
        }
    }

    /// `POST /{c}`.
    static func create(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let handlers = try handlers(request)
        let body = try RequestBody.decode(request.http)
        handlers.create(body.object, origin: try clientID(request), respond: answer(request, respond))
    }

    /// `GET /{c}/{id}`: the document, or with `Accept: text/event-stream` its stream.
    static func read(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let handlers = try handlers(request)
        let id = try id(request)
        if StreamHandlers.wantsStream(request.http) {
            // A document the caller may not read is 404 here as for a GET.
            if case .owned = handlers.caller.read, let existing = try? handlers.service.get(id) {
                guard handlers.service.allows(handlers.caller.read, existing.document.parsed()) else {
                    throw APIError.notFound("no document \(handlers.service.name)/\(id)")
                }
            }
            var subscription = Subscription(collections: [handlers.service.name], documentID: id, filter: nil)
            subscription.owners = request.ownerConditions(on: handlers.service)
            subscription.expires = request.identity?.expires
            return respond(try StreamHandlers(hub: request.app.hub).open(request.http, subscription, since: request.parameter("since")))
        }
        respond(try handlers.read(request.http, id: id))
    }

    /// `PUT /{c}/{id}`.
    static func replace(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let (handlers, id) = (try handlers(request), try id(request))
        let body = try RequestBody.decode(request.http)
        handlers.replace(id, body.object, condition: condition(request), origin: try clientID(request), respond: answer(request, respond))
    }

    /// `PATCH /{c}/{id}`.
    static func patch(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let (handlers, id) = (try handlers(request), try id(request))
        let body = try RequestBody.decode(request.http)
        handlers.patch(id, body.object, condition: condition(request), origin: try clientID(request), respond: answer(request, respond))
    }

    /// `DELETE /{c}/{id}`.
    static func delete(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let (handlers, id) = (try handlers(request), try id(request))
        handlers.delete(id, condition: condition(request), origin: try clientID(request), respond: answer(request, respond))
    }

    // MARK: Parts of a request

    private static func handlers(_ request: RouteRequest) throws(APIError) -> CollectionHandlers {
        guard let service = request.collection else { throw .notFound("no collection named \(request.target.segments.first ?? "")") }
        return CollectionHandlers(service: service, maxLimit: request.app.options.maxLimit, caller: request.caller(on: service))
    }

    private static func id(_ request: RouteRequest) throws(APIError) -> String {
        guard let id = request.id else { throw .notFound("nothing at \(request.target.path)") }
        return id
    }

    /// A write's outcome as its answer (a failure rendered, and logged when 5xx).
    private static func answer(_ request: RouteRequest, _ respond: @escaping Respond) -> CollectionHandlers.Answer {
        { outcome in
            switch outcome {
            case .success(let response): respond(response)
            case .failure(let error): respond(request.errorResponse(error))
            }
        }
    }

    /// `X-Client-Id`, kept as the change's origin so a page can spot its own echo.
    private static func clientID(_ request: RouteRequest) throws(APIError) -> String? {
        guard let id = request.header("X-Client-Id") else { return nil }
        guard !id.isEmpty, id.utf8.count <= 128, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("X-Client-Id must be 1 to 128 printable ASCII characters", code: "bad_client_id")
        }
        return id
    }

    private static func condition(_ request: RouteRequest) -> WriteCondition {
        var condition = WriteCondition()
        if let ifMatch = request.header("If-Match") {
            let tags = Responses.entityTags(ifMatch)
            condition.ifMatchAny = tags.any
            condition.ifMatch = tags.versions
        }
        // Asked of PUT, PATCH and DELETE alike (however the method was sent): PATCH and
        // DELETE need the document, so for them it can only fail.
        if let ifNoneMatch = request.header("If-None-Match"), Responses.entityTags(ifNoneMatch).any {
            condition.createOnly = true
        }
        return condition
    }
}
