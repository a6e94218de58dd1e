import DocumentStore
import Foundation
import HTTPServer

/// `/healthz`, `/metrics` and `/openapi.yaml`.
struct SystemEndpoints: Sendable {
    let store: any DocumentStore
    let metrics: ServerMetrics
    let startedAt: ContinuousClock.Instant

    func health() -> HTTPResponse {
        let health = store.health()
        let uptime = Double((ContinuousClock.now - startedAt).microseconds) / 1e6
        let body = JSON.object(JSONObject([
            ("status", .string(health.ok ? "ok" : "unavailable")),
            ("store", .string(store.description)),
            ("storeStatus", .string(health.ok ? "ok" : health.detail)),
            ("uptime", .double((uptime * 1000).rounded() / 1000)),
        ]))
        return Responses.json(health.ok ? 200 : 503, body, health.ok ? [] : [("Retry-After", "2")])
    }

    func metricsText() -> HTTPResponse {
        HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: metrics.render())
    }

    static let openAPIDocument: [UInt8]? = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml", subdirectory: "Resources")
            ?? Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return [UInt8](data)
    }()

    func openAPI() -> HTTPResponse {
        guard let document = Self.openAPIDocument else {
            return APIError(404, "not_found", "openapi.yaml was not bundled with this build").response
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml; charset=utf-8")], body: document)
    }
}

extension Duration {
    var microseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000 + attoseconds / 1_000_000_000_000
    }
}
