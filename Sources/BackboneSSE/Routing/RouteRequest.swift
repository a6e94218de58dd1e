import DocumentStore
import HTTPServer
import Logging

/// A request on its way through the middleware chain to its route's handler.
struct RouteRequest: Sendable {
    let http: HTTPRequest
    /// The decoded path and query (empty when the target itself was bad).
    let target: Target
    /// The method the request stands for: `Backbone.emulateHTTP` sends PUT, PATCH and
    /// DELETE as POST with `_method` or `X-HTTP-Method-Override`.
    let method: String
    let destination: Destination
    let app: BackboneSSEApp
    /// The config in force when the request arrived (see `Configured`).
    let configured: Configured
    /// Names the request in the logs and in its answer's `X-Request-Id` (set by
    /// `RequestID`, the outermost middleware).
    var requestID = ""
    /// Who sent it, from a verified bearer token (set by `Authentication`; nil: anonymous).
    var identity: Identity?
    /// The route label of `/metrics` and the logs: a template, `static` or `unmatched`.
    let routeLabel: String
    /// The matched collection and document id, if the route has them.
    let collection: CollectionService?
    let id: String?

    /// The label, collection and id are read from `destination` once, here: each
    /// request asks for them several times (metrics, logs, handlers), and reading them
    /// from the enum each time copied its whole payload.
    init(http: HTTPRequest, target: Target, method: String, destination: Destination, app: BackboneSSEApp, configured: Configured) {
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
