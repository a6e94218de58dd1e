import Foundation
import HTTPServer

/// `/events?collections=a,b`: one stream of several collections (it always streams,
/// whatever the `Accept` header).
enum StreamRoutes {
    static func events(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let names = request.parameter("collections") ?? ""
        let collections = names.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        guard !collections.isEmpty else {
            throw APIError.badRequest("name the collections: /events?collections=todos,lists", code: "bad_query")
        }
        for name in collections where request.app.services[name] == nil {
            throw APIError.notFound("no collection named \(name)")
        }
        let subscription = Subscription(collections: Set(collections), documentID: nil, filter: nil)
        respond(try StreamHandlers(hub: request.app.hub).open(request.http, subscription, since: request.parameter("since")))
    }
}
