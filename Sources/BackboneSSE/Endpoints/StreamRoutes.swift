import Foundation
import HTTPServer

/// `/events?collections=a,b`: one stream of several collections (it always streams,
/// whatever the `Accept` header).
enum StreamRoutes {
    static func events(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let collections = collectionNames(request)
        guard !collections.isEmpty else {
            throw APIError.badRequest("name the collections: /events?collections=todos,lists", code: "bad_query")
        }
        for name in collections where request.configured.services[name] == nil {
            throw APIError.notFound("no collection named \(name)")
        }
        var owners: [String: Subscription.OwnerCondition] = [:]
        for name in collections {
            if let condition = request.ownerCondition(on: request.configured.services[name]!) { owners[name] = condition }
        }
        var subscription = Subscription(collections: Set(collections), documentID: nil, filter: nil, owners: owners)
        subscription.expires = request.identity?.expires
        respond(try StreamHandlers(hub: request.app.hub).open(request.http, subscription, since: request.parameter("since")))
    }

    /// The names of `?collections=a,b`.
    static func collectionNames(_ request: RouteRequest) -> [String] {
        let names = request.parameter("collections") ?? ""
        return names.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
    }
}
