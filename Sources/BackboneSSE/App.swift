import DocumentStore
import Foundation
import HTTPServer
import Logging

/// Settings of the service that do not come from the config file.
public struct ServiceOptions: Sendable {
    public var corsOrigins: [String]
    public var maxLimit: Int
    public var staticRoots: [StaticFiles.Root]
    /// `--dev-tokens`: `POST /auth/dev-token` signs tokens for anyone (nil: 404).
    public var devTokens: DevTokenIssuer?

    public init(
        corsOrigins: [String] = [], maxLimit: Int = 1000, staticRoots: [StaticFiles.Root] = [], devTokens: DevTokenIssuer? = nil
    ) {
        self.corsOrigins = corsOrigins
        self.maxLimit = maxLimit
        self.staticRoots = staticRoots
        self.devTokens = devTokens
    }
}

/// The service behind the HTTP server: the collections, the streams, and the router
/// that sends each request through the middleware to its handler.
public final class BackboneSSEApp: Sendable {
    let services: [String: CollectionService]
    let options: ServiceOptions
    let staticFiles: StaticFiles
    let system: SystemEndpoints
    let metrics: ServerMetrics
    let hub: StreamHub
    let logger: Logger
    let cors: CORSMiddleware
    let router: Router
    /// The `auth` block (nil: every request is anonymous and allowed).
    let auth: AuthConfig?
    /// Issues and checks stream tickets (nil without an `auth` block).
    let tickets: StreamTickets?
    /// At most 4 MB of list answers (see `CollectionHandlers.list`).
    let listAnswers = ListAnswers(capacity: 256, maxCost: 4 << 20)

    public init(
        config: AppConfig, store: any DocumentStore, feed: (any ChangeFeed)? = nil, broker: (any BrokerStatus)? = nil,
        options: ServiceOptions,
        streams: StreamOptions = StreamOptions(), logger: Logger
    ) throws(StoreError) {
        try store.prepare(config.collections.map(\.layout))
        var services: [String: CollectionService] = [:]
        for collection in config.collections {
            services[collection.name] = CollectionService(config: collection, store: store)
        }
        self.services = services
        self.options = options
        self.staticFiles = StaticFiles(roots: options.staticRoots)
        self.metrics = ServerMetrics()
        self.system = SystemEndpoints(store: store, broker: broker, metrics: metrics, startedAt: .now)
        self.hub = try StreamHub(store: store, feed: feed, options: streams, metrics: metrics, logger: logger)
        self.logger = logger
        self.cors = CORSMiddleware(origins: Set(options.corsOrigins))
        self.auth = config.auth
        // The shared key of `auth.ticket_secret_env`, else one of this process only.
        let tickets = config.auth.map { auth in auth.ticketSecret.map(StreamTickets.init(secret:)) ?? .random() }
        self.tickets = tickets
        var middleware: [any Middleware] = [
            RequestID(), RequestLogging(logger: logger), MetricsMiddleware(metrics: metrics), cors, CrossOriginWrites(cors: cors),
        ]
        // Identity, then the rules, before any handler touches the store.
        if let auth = config.auth, let tickets {
            middleware.append(Authentication(verifier: TokenVerifier(auth), tickets: tickets))
            if let limits = auth.rateLimit { middleware.append(RateLimit(limits: limits)) }
            middleware.append(Authorization(auth: auth))
        }
        self.router = Router(routes: Routes.table, middleware: middleware, fallback: StaticRoute.answer)
    }

    /// Ends every stream with `bye` (the server stops accepting first).
    public func shutdown() {
        hub.shutdown()
    }

    /// The server's own error answers (413) in the service's error format, with CORS.
    public func errorResponse(_ status: Int, _ code: String, _ message: String, _ headers: [(name: String, value: String)]) -> HTTPResponse
    {
        var response = Responses.errorResponse(status, code, message)
        cors.decorate(&response, origin: headers.value(of: "Origin"))
        return response
    }

    /// The server's entry point: the answer goes to the request's responder.
    public func handle(_ request: HTTPRequest, _ responder: Responder) {
        handle(request, respond: responder.send)
    }

    /// Answers one request through `respond`, now or later, from any thread; called by
    /// the HTTP server and, without a socket, by the in-process tests.
    public func handle(_ request: HTTPRequest, respond: @escaping @Sendable (HTTPResponse) -> Void) {
        router.respond(to: request, app: self, respond)
    }
}
