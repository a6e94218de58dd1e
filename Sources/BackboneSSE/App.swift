import DocumentStore
import Foundation
import HTTPServer
import Logging
import Synchronization

/// Settings of the service that do not come from the config file.
public struct ServiceOptions: Sendable {
    public var corsOrigins: [String]
    public var maxLimit: Int
    public var staticRoots: [StaticFiles.Root]
    /// `--dev-tokens`: `POST /auth/dev-token` signs tokens for anyone (nil: 404).
    public var devTokens: DevTokenIssuer?
    /// `--list-budget`: how long a list may run on the server thread that took it before
    /// it is stopped and run on the slow-list lane (zero: every list not answered from
    /// memory goes there). Stores that cannot stop a query run it whole.
    public var listBudget: Duration

    public init(
        corsOrigins: [String] = [], maxLimit: Int = 1000, staticRoots: [StaticFiles.Root] = [], devTokens: DevTokenIssuer? = nil,
        listBudget: Duration = .milliseconds(5)
    ) {
        self.corsOrigins = corsOrigins
        self.maxLimit = maxLimit
        self.staticRoots = staticRoots
        self.devTokens = devTokens
        self.listBudget = listBudget
    }
}

/// The service behind the HTTP server: the collections, the streams, and the router
/// that sends each request through the middleware to its handler.
public final class BackboneSSEApp: Sendable {
    let options: ServiceOptions
    let staticFiles: StaticFiles
    let system: SystemEndpoints
    let metrics: ServerMetrics
    let hub: StreamHub
    let logger: Logger
    let cors: CORSHeaders
    let store: any DocumentStore
    /// Where lists too slow for a server thread run (`ServiceOptions.listBudget`): one at
    /// a time, on a thread of their own. A sort or a count over many documents then holds
    /// up only the slow lists queued behind it, not every connection that shares the
    /// server thread it came in on (event streams among them). The queue needs no bound
    /// of its own: each entry is a request whose connection waits, and connections are
    /// capped.
    let slowLists = DispatchQueue(label: "backbone-sse.slow-lists")
    /// The decorators and middleware every config has (identity and rules come after,
    /// from the config).
    private let decorators: [any AnswerDecorator]
    private let baseMiddleware: [any Middleware]
    /// The config in force, swapped by `reload`.
    private let configured: Mutex<Configured>

    /// The config in force now.
    var current: Configured { configured.withLock { $0 } }

    public init(
        config: AppConfig, store: any DocumentStore, feed: (any ChangeFeed)? = nil, broker: (any BrokerStatus)? = nil,
        options: ServiceOptions,
        streams: StreamOptions = StreamOptions(), logger: Logger
    ) throws(StoreError) {
        try store.prepare(config.collections.map(\.layout))
        self.store = store
        self.options = options
        self.staticFiles = StaticFiles(roots: options.staticRoots)
        self.metrics = ServerMetrics()
        self.system = SystemEndpoints(store: store, broker: broker, metrics: metrics, startedAt: .now)
        self.hub = try StreamHub(store: store, feed: feed, options: streams, metrics: metrics, logger: logger)
        self.logger = logger
        let cors = CORSHeaders(origins: Set(options.corsOrigins))
        self.cors = cors
        let decorators: [any AnswerDecorator] = [RequestID(), RequestLogging(), RequestMetrics(metrics: metrics), cors]
        let base: [any Middleware] = [CrossOriginWrites(cors: cors)]
        self.decorators = decorators
        self.baseMiddleware = base
        let configured = Configured(config, store: store, decorators: decorators, base: base)
        self.configured = Mutex(configured)
        SchemaAudit.log(SchemaAudit.run(configured.services.values.sorted { $0.name < $1.name }, store: store), logger: logger)
    }

    /// Puts `config` in force, or says why it cannot be (then nothing changes). New
    /// collections and indexes are made in the store first; streams of collections
    /// whose rules may have changed (every stream, when the `auth` block did) are ended
    /// with `bye`, so that their clients come back, from their cursor, under the new
    /// rules. A request already under way finishes under the config it began with.
    public func reload(_ config: AppConfig) -> Result<ConfigChange, ReloadRefused> {
        let old = current
        let change = ConfigChange(from: old.config, to: config)
        guard change.refusals.isEmpty else { return .failure(ReloadRefused(reasons: change.refusals)) }
        guard !change.isEmpty else { return .success(change) }
        do {
            try store.prepare(config.collections.map(\.layout))
        } catch {
            return .failure(ReloadRefused(reasons: ["the store could not prepare the collections: \(error)"]))
        }
        let next = Configured(config, store: store, decorators: decorators, base: baseMiddleware, previous: old)
        configured.withLock { $0 = next }
        let changed = change.changed.compactMap { next.services[$0] }
        SchemaAudit.log(SchemaAudit.run(changed, store: store), logger: logger)
        if old.auth != nil, change.reauthorise.map({ !$0.isEmpty }) ?? true {
            hub.endStreams(of: change.reauthorise)
        }
        return .success(change)
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
        let configured = current
        configured.router.respond(to: request, app: self, configured: configured, respond)
    }
}

/// A config that cannot be put in force in a running server, and why.
public struct ReloadRefused: Error, CustomStringConvertible {
    public let reasons: [String]
    public var description: String { reasons.joined(separator: "; ") }
}
