import DocumentStore
import Foundation
import HTTPServer

/// `/healthz`, `/metrics` and `/openapi.yaml`.
struct SystemEndpoints: Sendable {
    let store: any DocumentStore
    /// The broker linking the servers that share the store (`--pubsub`), if any.
    let broker: (any BrokerStatus)?
    let metrics: ServerMetrics
    let startedAt: ContinuousClock.Instant

    func health() -> HTTPResponse {
        let health = store.health()
        let uptime = Double((ContinuousClock.now - startedAt).microseconds) / 1e6
        var fields: [(String, JSON)] = [
            ("status", .string(health.ok ? "ok" : "unavailable")),
            // The kind of store only: a path or a connection string tells a stranger
            // where the data lives (and a MongoDB URL's query can hold a key's password).
            ("store", .string(String(store.description.prefix { $0 != ":" }))),
            ("storeStatus", .string(health.ok ? "ok" : health.detail)),
            ("uptime", .double((uptime * 1000).rounded() / 1000)),
        ]
        // Without the broker the server still serves, only slower to hear of other
        // servers' changes (the poll of the log): the status stays 200.
        if let broker { fields.append(("pubsub", .string(broker.isAvailable ? "ok" : "unavailable"))) }
        let body = JSON.object(JSONObject(fields))
        return Responses.json(health.ok ? 200 : 503, body, health.ok ? [] : [("Retry-After", "2")])
    }

    /// `/livez`: the process answers requests. Nothing else is asked: a store that is
    /// down is no reason to restart the server (it would not bring the store back).
    func live() -> HTTPResponse {
        Responses.json(200, .object(JSONObject([("status", .string("ok"))])))
    }

    /// `/readyz`: requests would be served, the store answering a read. Without the
    /// `--pubsub` broker the server still serves (slower to hear of other servers'
    /// changes), so it does not count here; `/healthz` shows it.
    func ready() -> HTTPResponse {
        let ok = store.health().ok
        return Responses.json(
            ok ? 200 : 503, .object(JSONObject([("status", .string(ok ? "ok" : "unavailable"))])), ok ? [] : [("Retry-After", "2")])
    }

    func metricsText() -> HTTPResponse {
        metrics.storeStatistics(store.statistics())
        metrics.processFigures()
        if let broker { metrics.brokerStatistics(broker) }
        let body = metrics.render()
        return HTTPResponse(status: 200, headers: [("Content-Type", "text/plain; version=0.0.4; charset=utf-8")], body: body)
    }

    static func bundled(_ name: String, _ ext: String) -> [UInt8]? {
        guard
            let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: "Resources")
                ?? Bundle.module.url(forResource: name, withExtension: ext),
            let data = try? Data(contentsOf: url)
        else { return nil }
        return [UInt8](data)
    }

    static let openAPIDocument = bundled("openapi", "yaml")
    static let clientLibrary = bundled("backbone-sse", "js")

    /// `document`: the config's own (`Configured.openAPI`), made from the bundled one.
    func openAPI(_ document: [UInt8]?) -> HTTPResponse {
        guard let document else {
            return APIError(404, "not_found", "openapi.yaml was not bundled with this build").response
        }
        return HTTPResponse(status: 200, headers: [("Content-Type", "application/yaml; charset=utf-8")], body: document)
    }

    /// The Backbone client library, `/backbone-sse.js`.
    func client() -> HTTPResponse {
        guard let script = Self.clientLibrary else {
            return APIError(404, "not_found", "backbone-sse.js was not bundled with this build").response
        }
        return HTTPResponse(
            status: 200, headers: [("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "no-cache")],
            body: script)
    }
}
