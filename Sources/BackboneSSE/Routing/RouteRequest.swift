import DocumentStore
import HTTPServer
import Logging

/// A request on its way through the middleware chain to its route's handler.
///
/// What the request is (read once, never changed) sits in one shared object, and only
/// what the middleware adds (`requestID`, `identity`) in the value itself: a request is
/// copied into every closure that answers it later, and a copy of a dozen fields cost
/// as many retains and releases.
struct RouteRequest: Sendable {
    private let fixed: Fixed
    /// Names the request in the logs and in its answer's `X-Request-Id` (set by
    /// `RequestID`, the outermost middleware).
    var requestID = ""
    /// Who sent it, from a verified bearer token (set by `Authentication`; nil: anonymous).
    var identity: Identity?

    var http: HTTPRequest { fixed.http }
    /// The decoded path and query (empty when the target itself was bad).
    var target: Target { fixed.target }
    /// The method the request stands for: `Backbone.emulateHTTP` sends PUT, PATCH and
    /// DELETE as POST with `_method` or `X-HTTP-Method-Override`.
    var method: String { fixed.method }
    var destination: Destination { fixed.destination }
    var app: BackboneSSEApp { fixed.app }
    /// The config in force when the request arrived (see `Configured`).
    var configured: Configured { fixed.configured }
    /// The route label of `/metrics` and the logs: a template, `static` or `unmatched`.
    var routeLabel: String { fixed.routeLabel }
    /// The matched collection and document id, if the route has them.
    var collection: CollectionService? { fixed.collection }
    var id: String? { fixed.id }

    init(http: HTTPRequest, target: Target, method: String, destination: Destination, app: BackboneSSEApp, configured: Configured) {
        fixed = Fixed(http: http, target: target, method: method, destination: destination, app: app, configured: configured)
    }

    private final class Fixed: Sendable {
        let http: HTTPRequest
        let target: Target
        let method: String
        let destination: Destination
        let app: BackboneSSEApp
        let configured: Configured
        let routeLabel: String
        let collection: CollectionService?
        let id: String?

        /// The label, collection and id are read from `destination` once, here: each
        /// request asks for them several times (metrics, logs, handlers), and reading
        /// them from the enum each time copied its whole payload.
        init(
            http: HTTPRequest, target: Target, method: String, destination: Destination, app: BackboneSSEApp,
            configured: Configured
        ) {
            self.http = http
            self.target = target
            self.method = method
            self.destination = destination
            self.app = app
            self.configured = configured
            switch destination {
            case .route(let template, let parameters):
                (routeLabel, collection, id) = (template, parameters.collection, parameters.id)
            case .fallback: (routeLabel, collection, id) = ("static", nil, nil)
            case .invalid: (routeLabel, collection, id) = ("unmatched", nil, nil)
            }
        }
    }

    /// Where the router sends a request.
    enum Destination: Sendable {
        /// A path of the route table (`template` is its path, e.g. `/{collection}/{id}`).
        case route(template: String, parameters: Parameters)
        /// No route: static files, or 404.
        case fallback
        /// The request could not be read (bad target, bad override): answered with this.
        case invalid(APIError)
    }

    struct Parameters: Sendable {
        /// The matched path's routes, by method.
        let routes: PathRoutes
        var collection: CollectionService?
        var id: String?
        /// A path that has the shape of a route but a bad parameter (an invalid id):
        /// answered with this after OPTIONS, before the method is looked at.
        var problem: APIError?
    }

    /// What this request's caller may do on `service` (everything without an `auth` block).
    func caller(on service: CollectionService) -> Caller {
        guard configured.auth != nil else { return .unrestricted }
        return Caller(identity: identity, access: service.config.access ?? CollectionAccess())
    }

    /// For a stream: whose documents' changes the caller may see on `service` (nil: all).
    func ownerCondition(on service: CollectionService) -> Subscription.OwnerCondition? {
        guard case .owned(let subject) = caller(on: service).read else { return nil }
        // No owner field (the config refuses it): a condition nothing meets.
        return Subscription.OwnerCondition(field: service.config.owner ?? "", subject: subject)
    }

    func ownerConditions(on service: CollectionService) -> [String: Subscription.OwnerCondition] {
        ownerCondition(on: service).map { [service.name: $0] } ?? [:]
    }

    /// Whether this request opens a stream: the only requests that read `?ticket=`.
    var opensStream: Bool {
        switch routeLabel {
        case "/events": method == "GET" || method == "HEAD"
        case "/{collection}", "/{collection}/{id}": StreamHandlers.wantsStream(http)
        default: false
        }
    }

    /// The last value of a query parameter.
    func parameter(_ name: String) -> String? { target.parameter(name) }

    func header(_ name: String) -> String? { http.header(name) }

    /// The JSON answer of a failure. A 5xx is logged here, once, with its cause (the
    /// client sees none of it).
    func errorResponse(_ error: any Error) -> HTTPResponse {
        let api = APIError(error)
        if api.status >= 500 {
            app.logger.error(
                "answered \(api.status) \(api.code)",
                metadata: [
                    "http.method": "\(method)", "http.route": "\(routeLabel)", "http.status": "\(api.status)",
                    "request.id": "\(requestID)", "error.cause": "\(api.cause ?? api.message)",
                ])
        }
        return api.response
    }
}
