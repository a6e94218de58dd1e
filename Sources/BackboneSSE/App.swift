import DocumentStore
import Foundation
import HTTPServer
import Logging

/// Settings of the service that do not come from the config file.
public struct ServiceOptions: Sendable {
    public var corsOrigins: [String]
    public var maxLimit: Int
    public var staticRoots: [StaticFiles.Root]

    public init(corsOrigins: [String] = [], maxLimit: Int = 1000, staticRoots: [StaticFiles.Root] = []) {
        self.corsOrigins = corsOrigins
        self.maxLimit = maxLimit
        self.staticRoots = staticRoots
    }
}

/// The service behind the HTTP server: routes each request to its handler and turns
/// every failure into a JSON error.
public final class BackboneSSEApp: Sendable {
    let services: [String: CollectionService]
    let options: ServiceOptions
    let cors: CORS
    let staticFiles: StaticFiles
    let system: SystemEndpoints
    let metrics: ServerMetrics
    let hub: StreamHub
    let logger: Logger
    /// At most 4 MB of list answers (see `CollectionHandlers.list`).
    let listAnswers = ListAnswers(capacity: 256, maxCost: 4 << 20)

    public init(
        config: AppConfig, store: any DocumentStore, options: ServiceOptions, streams: StreamOptions = StreamOptions(),
        logger: Logger
    ) throws(StoreError) {
        try store.prepare(config.collections.map(\.layout))
        var services: [String: CollectionService] = [:]
        for collection in config.collections {
            services[collection.name] = CollectionService(config: collection, store: store)
        }
        self.services = services
        self.options = options
        self.cors = CORS(origins: Set(options.corsOrigins))
        self.staticFiles = StaticFiles(roots: options.staticRoots)
        self.metrics = ServerMetrics()
        self.system = SystemEndpoints(store: store, metrics: metrics, startedAt: .now)
        self.hub = try StreamHub(store: store, options: streams, metrics: metrics, logger: logger)
        self.logger = logger
    }

    /// Ends every stream with `bye` (the server stops accepting first).
    public func shutdown() {
        hub.shutdown()
    }

    /// The server's own error answers (413) in the service's error format, with CORS.
    public func errorResponse(_ status: Int, _ code: String, _ message: String, _ headers: [(name: String, value: String)]) -> HTTPResponse {
        var response = Responses.errorResponse(status, code, message)
        let origin = headers.value(of: "Origin")
        cors.decorate(&response, origin: origin)
        return response
    }

    /// The server's entry point: the answer goes to the request's responder.
    public func handle(_ request: HTTPRequest, _ responder: Responder) {
        handle(request, respond: responder.send)
    }

    /// Answers one request through `respond`, now or later, from any thread; called by
    /// the HTTP server and, without a socket, by the in-process tests.
    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        let origin = request.header("Origin")
        var route = "unmatched"
        var method = request.method
        let finish: @Sendable (HTTPResponse, String, String) -> Void = { [cors, metrics] response, route, method in
            var response = response
            cors.decorate(&response, origin: origin)
            metrics.request(route: route, method: method, status: response.status, duration: .now - request.startedAt)
            if method != "GET", method != "HEAD", method != "OPTIONS", route.hasPrefix("/{collection}"), (200..<300).contains(response.status),
                let collection = request.rawPath.split(separator: "/").first
            {
                metrics.documentWritten(collection: String(collection), operation: method)
            }
            respond(response)
        }
        do {
            let target = try Target(request)
            method = try effectiveMethod(request, target)
            route = target.routeLabel(services)
            let (routeLabel, methodLabel) = (route, method)
            try dispatch(request, target, method: method, route: route) { response in finish(response, routeLabel, methodLabel) }
        } catch {
            finish(error.response, route, method)
        }
    }

    /// `Backbone.emulateHTTP`: a POST that says, in `X-HTTP-Method-Override` or `_method`,
    /// which method it stands for.
    private func effectiveMethod(_ request: HTTPRequest, _ target: Target) throws(APIError) -> String {
        guard request.method == "POST" else { return request.method }
        var override = request.header("X-HTTP-Method-Override")
        if override == nil { override = target.parameter("_method") }
        if override == nil, request.header("Content-Type")?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true,
            let text = String(validating: request.body, as: UTF8.self), !text.hasPrefix("{")
        {
            override = (try? QueryString.parse(text[...]))?.last { $0.name == "_method" }?.value
        }
        guard let override = override?.uppercased() else { return "POST" }
        guard ["PUT", "PATCH", "DELETE", "POST"].contains(override) else {
            throw .badRequest("cannot override POST with \(override)", code: "bad_method_override")
        }
        return override
    }

    private func dispatch(
        _ request: HTTPRequest, _ target: Target, method: String, route: String,
        finish: @escaping @Sendable (HTTPResponse) -> Void
    ) throws(APIError) {
        let segments = target.segments
        if method == "OPTIONS", route.hasPrefix("/") {
            return finish(cors.preflight(request, allow: Routes.allow(route)))
        }
        switch segments.count {
        case 1 where segments[0] == "healthz":
            try require(method, "/healthz")
            return finish(system.health())
        case 1 where segments[0] == "metrics":
            try require(method, "/metrics")
            return finish(system.metricsText())
        case 1 where segments[0] == "events":
            try require(method, "/events")
            let names = target.parameter("collections") ?? ""
            let collections = names.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
            guard !collections.isEmpty else {
                throw APIError.badRequest("name the collections: /events?collections=todos,lists", code: "bad_query")
            }
            for name in collections where services[name] == nil { throw APIError.notFound("no collection named \(name)") }
            let subscription = Subscription(collections: Set(collections), documentID: nil, filter: nil)
            return finish(try StreamHandlers(hub: hub).open(request, subscription, since: target.parameter("since")))
        case 1 where segments[0] == "backbone-sse.js":
            try require(method, "/backbone-sse.js")
            return finish(system.client())
        case 1 where segments[0] == "openapi.yaml":
            try require(method, "/openapi.yaml")
            return finish(system.openAPI())
        case 1 where services[segments[0]] != nil:
            let handlers = CollectionHandlers(service: services[segments[0]]!, maxLimit: options.maxLimit)
            try require(method, "/{collection}")
            if method == "POST" {
                let body = try RequestBody.decode(request)
                handlers.create(body.object, origin: try clientID(request), finish: finish)
                return
            }
            if StreamHandlers.wantsStream(request) {
                let parsed = try handlers.parse(target.query)
                let filter = parsed.query.filter == .all ? nil : parsed.query.filter
                let subscription = Subscription(collections: [handlers.service.name], documentID: nil, filter: filter)
                return finish(try StreamHandlers(hub: hub).open(request, subscription, since: parsed.since))
            }
            return finish(try handlers.list(request, path: target.path, query: target.query, answers: listAnswers))
        case 2 where services[segments[0]] != nil:
            let handlers = CollectionHandlers(service: services[segments[0]]!, maxLimit: options.maxLimit)
            let id = segments[1]
            guard DocumentID.isValid(id) else {
                throw APIError.badRequest("invalid id (ids match ^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}$)", code: "invalid_id")
            }
            try require(method, "/{collection}/{id}")
            switch method {
            case "GET" where StreamHandlers.wantsStream(request):
                let subscription = Subscription(collections: [segments[0]], documentID: id, filter: nil)
                return finish(try StreamHandlers(hub: hub).open(request, subscription, since: target.parameter("since")))
            case "GET", "HEAD":
                return finish(try handlers.read(request, id: id))
            case "PUT":
                let body = try RequestBody.decode(request)
                handlers.replace(id, body.object, condition: condition(request), origin: try clientID(request), finish: finish)
            case "PATCH":
                let body = try RequestBody.decode(request)
                handlers.patch(id, body.object, condition: condition(request), origin: try clientID(request), finish: finish)
            default:
                handlers.delete(id, condition: condition(request), origin: try clientID(request), finish: finish)
            }
        default:
            if method == "GET" || method == "HEAD",
                let response = staticFiles.response(for: segments, trailingSlash: target.path.hasSuffix("/"))
            {
                return finish(response)
            }
            if segments.count <= 2, let first = segments.first, ConfigLoader.isValidName(first) {
                throw APIError.notFound("no collection named \(first)")
            }
            throw APIError.notFound("nothing at \(target.path)")
        }
    }

    private func require(_ method: String, _ template: String) throws(APIError) {
        guard Routes.allows(method, template) else {
            var error = APIError(405, "method_not_allowed", "\(method) is not allowed on \(template)")
            error.headers = [("Allow", Routes.allow(template))]
            throw error
        }
    }

    /// `X-Client-Id`, kept as the change's origin so a page can spot its own echo.
    private func clientID(_ request: HTTPRequest) throws(APIError) -> String? {
        guard let id = request.header("X-Client-Id"), !id.isEmpty else { return nil }
        guard id.utf8.count <= 128, id.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw .badRequest("X-Client-Id must be at most 128 printable ASCII characters", code: "bad_client_id")
        }
        return id
    }

    private func condition(_ request: HTTPRequest) -> WriteCondition {
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

extension Error {
    var response: HTTPResponse {
        if let api = self as? APIError { return api.response }
        return APIError(500, "internal_error", "internal error").response
    }
}
