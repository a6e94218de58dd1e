import DocumentStore
import HTTPServer

/// Dispatches by the route table, through the middleware chain.
///
/// Each request is read once (target, method override), matched by path, named by the
/// answer decorators, then passed through the middleware, outermost first; the innermost
/// step answers OPTIONS with the path's `Allow`, refuses a method the path lacks with
/// 405, and calls the handler. An error thrown at any step becomes its JSON answer at
/// that step, so the decorators around the chain (CORS, metrics, logging, the request
/// id) see it like any other answer.
struct Router: Sendable {
    /// Templates in table order (literal paths come before parameters in the table),
    /// each with its routes.
    private let templates: [(path: String, template: RouteTemplate, routes: PathRoutes)]
    /// The middleware around the endpoint, composed once.
    private let entry: Next
    /// Outermost first; they see every answer, the middleware's errors included.
    private let decorators: [any AnswerDecorator]

    /// `fallback` answers paths that match no route (static files, 404).
    init(
        routes: [Route], decorators: [any AnswerDecorator], middleware: [any Middleware], fallback: @escaping Route.Handler
    ) {
        self.decorators = decorators
        var templates: [(path: String, template: RouteTemplate, routes: PathRoutes)] = []
        for route in routes {
            if let at = templates.firstIndex(where: { $0.path == route.path }) {
                templates[at].routes.add(route)
            } else {
                templates.append((route.path, route.template, PathRoutes(route)))
            }
        }
        self.templates = templates
        var entry: Next = { request, respond in Self.endpoint(request, respond, fallback) }
        for layer in middleware.reversed() {
            let next = entry
            entry = { request, respond in
                do { try layer.handle(request, respond: respond, next: next) } catch {
                    respond(request.errorResponse(error))
                }
            }
        }
        self.entry = entry
    }

    func respond(to http: HTTPRequest, app: BackboneSSEApp, configured: Configured, _ respond: @escaping Respond) {
        var request = prepare(http, app: app, configured: configured)
        for decorator in decorators { decorator.prepare(&request) }
        // The answer is taken, not borrowed: the decorators' appends then find its
        // header array uniquely held and grow it in place rather than copy it.
        entry(request) { [decorators, request] (response: consuming HTTPResponse) in
            for decorator in decorators.reversed() { decorator.decorate(&response, for: request) }
            respond(response)
        }
    }

    // MARK: Reading and matching

    private func prepare(_ http: HTTPRequest, app: BackboneSSEApp, configured: Configured) -> RouteRequest {
        let target: Target
        do { target = try Target(http) } catch {
            return RouteRequest(
                http: http, target: .empty, method: http.method, destination: .invalid(error), app: app, configured: configured)
        }
        let method: String
        do { method = try MethodOverride.effectiveMethod(http, target) } catch {
            return RouteRequest(
                http: http, target: target, method: http.method, destination: .invalid(error), app: app, configured: configured)
        }
        return RouteRequest(
            http: http, target: target, method: method, destination: match(target.segments, configured), app: app,
            configured: configured)
    }

    private func match(_ segments: [String], _ configured: Configured) -> RouteRequest.Destination {
        templates: for (path, template, routes) in templates where template.segments.count == segments.count {
            var parameters = RouteRequest.Parameters(routes: routes)
            for (pattern, segment) in zip(template.segments, segments) {
                switch pattern {
                case .literal(let literal):
                    guard literal == segment else { continue templates }
                case .collection:
                    guard let service = configured.services[segment] else { continue templates }
                    parameters.collection = service
                case .id:
                    parameters.id = segment
                    if !DocumentID.isValid(segment) {
                        parameters.problem = .badRequest(
                            "invalid id (ids match ^[A-Za-z0-9_~-][A-Za-z0-9_.~-]{0,127}$)", code: "invalid_id")
                    }
                }
            }
            return .route(template: path, parameters: parameters)
        }
        return .fallback
    }

    // MARK: The endpoint

    /// The innermost step: OPTIONS, a bad parameter, 405, or the route's handler.
    private static func endpoint(_ request: RouteRequest, _ respond: @escaping Respond, _ fallback: Route.Handler) {
        do {
            switch request.destination {
            case .invalid(let error):
                throw error
            case .fallback:
                try fallback(request, respond)
            case .route(let template, let parameters):
                let routes = parameters.routes
                if request.method == "OPTIONS" {
                    return respond(HTTPResponse(status: 204, headers: [("Allow", Self.allow(routes.methods))]))
                }
                if let problem = parameters.problem { throw problem }
                guard let route = routes[request.method == "HEAD" ? "GET" : request.method] else {
                    var error = APIError(405, "method_not_allowed", "\(request.method) is not allowed on \(template)")
                    error.headers = [("Allow", Self.allow(routes.methods))]
                    throw error
                }
                try route.handler(request, respond)
            }
        } catch {
            respond(request.errorResponse(error))
        }
    }

    /// The `Allow` header of a path: its methods in a fixed order, HEAD with GET, and
    /// OPTIONS.
    static func allow(_ methods: some Sequence<String>) -> String {
        let present = Set(methods)
        var out = Self.methodOrder.filter(present.contains)
        if present.contains("GET") { out.insert("HEAD", at: out.firstIndex(of: "GET")! + 1) }
        out.append("OPTIONS")
        return out.joined(separator: ", ")
    }

    static let methodOrder = ["GET", "POST", "PUT", "PATCH", "DELETE"]
}

/// The routes of one path, one per method: a handful, compared rather than hashed
/// (this lookup runs on every request).
struct PathRoutes: Sendable {
    private var routes: [Route]

    init(_ first: Route) { routes = [first] }

    /// A later registration of the same method replaces the earlier one.
    mutating func add(_ route: Route) {
        routes.removeAll { $0.method == route.method }
        routes.append(route)
    }

    subscript(method: String) -> Route? { routes.first { $0.method == method } }

    var methods: [String] { routes.map(\.method) }
}
