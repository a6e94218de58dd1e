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
    /// Names the request in the logs and in its answer's `X-Request-Id` (set by
    /// `RequestID`, the outermost middleware).
    var requestID = ""

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

    /// The route label of `/metrics` and the logs: a template, `static` or `unmatched`.
    var routeLabel: String {
        switch destination {
        case .route(let template, _): template
        case .fallback: "static"
        case .invalid: "unmatched"
        }
    }

    var collection: CollectionService? {
        if case .route(_, let parameters) = destination { return parameters.collection }
        return nil
    }

    var id: String? {
        if case .route(_, let parameters) = destination { return parameters.id }
        return nil
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
