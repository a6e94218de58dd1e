import HTTPServer

/// `/healthz`, `/livez`, `/readyz`, `/metrics`, `/openapi.yaml` and `/backbone-sse.js`.
enum SystemRoutes {
    static func live(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.live())
    }

    static func ready(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.ready())
    }

    static func health(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.health())
    }

    static func metrics(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.metricsText())
    }

    static func openAPI(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.openAPI(request.configured.openAPI))
    }

    static func clientLibrary(_ request: RouteRequest, _ respond: @escaping Respond) {
        respond(request.app.system.client())
    }
}
