import DocumentStore
import Synchronization

/// What the config file decides, as one value the server swaps whole when the file is
/// read again (SIGHUP, `BackboneSSEApp.reload`): the collections' services, the `auth`
/// block, and the router whose middleware checks identity and rules against them. A
/// request takes the value current when it arrives and keeps it to its answer, so it
/// never sees half of one config and half of the next.
final class Configured: Sendable {
    let config: AppConfig
    let services: [String: CollectionService]
    /// The `auth` block (nil: every request is anonymous and allowed).
    var auth: AuthConfig? { config.auth }
    /// Issues and checks stream tickets (nil without an `auth` block).
    let tickets: StreamTickets?
    let router: Router
    /// At most 4 MB of list answers (see `CollectionHandlers.list`); a new config
    /// starts with none (its rules or limits may answer the same query otherwise).
    let listAnswers = ListAnswers(capacity: 256, maxCost: 4 << 20)
    /// The served `/openapi.yaml`, made from this config at its first request.
    private let openAPIText = Mutex<[UInt8]?>(nil)

    /// The OpenAPI document of this config (nil when the build bundled no openapi.yaml).
    var openAPI: [UInt8]? {
        openAPIText.withLock { text in
            if text == nil { text = OpenAPIDocument.yaml(for: config) }
            return text
        }
    }

    /// `previous`: the config this one follows, whose ticket key it keeps when the key's
    /// variable has not changed (tickets already handed out stay good).
    init(
        _ config: AppConfig, store: any DocumentStore, decorators: [any AnswerDecorator], base: [any Middleware],
        previous: Configured? = nil
    ) {
        self.config = config
        var services: [String: CollectionService] = [:]
        for collection in config.collections {
            services[collection.name] = CollectionService(config: collection, store: store)
        }
        self.services = services
        let tickets: StreamTickets? = config.auth.map { auth in
            if let kept = previous?.tickets, previous?.auth?.ticketSecretEnv == auth.ticketSecretEnv { return kept }
            // The shared key of `auth.ticket_secret_env`, else one of this process only.
            return auth.ticketSecret.map(StreamTickets.init(secret:)) ?? .random()
        }
        self.tickets = tickets
        var middleware = base
        // Identity, then the rules, before any handler touches the store.
        if let auth = config.auth, let tickets {
            middleware.append(Authentication(verifier: TokenVerifier(auth), tickets: tickets))
            if let limits = auth.rateLimit { middleware.append(RateLimit(limits: limits)) }
            middleware.append(Authorization(auth: auth))
        }
        self.router = Router(routes: Routes.table, decorators: decorators, middleware: middleware, fallback: StaticRoute.answer)
    }
}
