import ArgumentParser
import BackboneSSE
import DocumentStore
import Foundation
import HTTPServer
import Logging
import SQLiteStore
import SystemdNotify

/// `backbone-sse serve`: parses the flags, builds the parts, runs until SIGTERM/SIGINT.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Serve the collections of a config file.")

    @Option(help: "The collections file (YAML, or JSON).")
    var config: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port; the start-up line says which).")
    var port: UInt16 = 8080

    @Option(help: "Where documents live: sqlite:PATH, or a MongoDB connection string mongodb://HOST[:PORT]/DATABASE.")
    var store = "sqlite:data/app.sqlite"

    @Option(help: "normal: an acknowledged write survives a crash of the process; full: it survives power loss (fsync per commit batch).")
    var durability: SQLiteStore.Durability = .normal

    @Option(
        help:
            "SQLite store: page cache of each server thread's read connection, e.g. 64MiB; it fills as pages are read, and a read of a page it does not hold goes to the file."
    )
    var readCache = "64MiB"

    @Option(
        help:
            "SQLite store: documents read by id kept in memory until a write changes them, e.g. 64MiB (their text plus 160 bytes each); 0 keeps none."
    )
    var documentCache = "64MiB"

    @Option(
        help:
            "MongoDB store: seconds after which a change-log entry left pending by a writer that died is settled by a reader (streams wait for it until then)."
    )
    var mongoLease: Double = 30

    @Option(
        help:
            "MongoDB store: seconds between reads of the change log for changes made by other servers sharing the database, so that this server's streams get them too (0: never)."
    )
    var mongoPoll: Double = 0.5

    @Option(
        help:
            "MongoDB store: redis://[:PASSWORD@]HOST[:PORT][/DB] through which the servers sharing the database tell each other at once that the change log has grown (the poll of --mongo-poll keeps running as the safety net)."
    )
    var pubsub: String?

    @Flag(
        help:
            "Development only: POST /auth/dev-token signs a token for any name with the auth.jwt.secret_env key, so that anyone who can reach the server can act as anyone."
    )
    var devTokens = false

    @Option(name: .customLong("static"), help: "Serve files from DIR, or /prefix=DIR (repeatable).")
    var staticDirectories: [String] = []

    @Option(name: .customLong("cors-origin"), help: "Allow cross-origin pages from ORIGIN (repeatable; * for any).")
    var corsOrigins: [String] = []

    @Option(help: "Largest request body, e.g. 1MiB, 512KiB, 1000000.")
    var maxBody = "1MiB"

    @Option(
        help:
            "Memory of each connection for its request line and headers, 4KiB to 1MiB: the longest URL accepted is about this less 400 bytes, the longest header field about half of it; an idle stream keeps most of it."
    )
    var connectionMemory = "12KiB"

    @Option(help: "Largest page a list returns, and the default page (a collection's maxLimit takes its place).")
    var maxLimit = 1000

    @Option(
        help:
            "Milliseconds a list may run on the server thread that took it; one still running then is stopped (MongoDB: by maxTimeMS) and run again on a thread for slow lists, one at a time, so that the other connections of that server thread (event streams among them) do not wait for it (0: every list not answered from memory goes there)."
    )
    var listBudget: Double = 5

    @Option(help: "Most event streams held at once; past it a new one gets 503.")
    var maxStreams = 10_000

    @Option(help: "Seconds between pings on idle streams.")
    var heartbeat = 15

    @Option(help: "Bytes a stream may hold unread before it is reset and closed, e.g. 256KiB.")
    var streamBuffer = "256KiB"

    @Option(help: "Change-log entries kept for resuming streams.")
    var retainCount = 100_000

    @Option(help: "Seconds a change-log entry is kept for resuming streams.")
    var retainSeconds: Int64 = 7 * 24 * 3600

    @Option(
        help:
            "Connections held at once from one client address (0: no cap); past it a new one is closed at once. A browser opens at most 6 per origin (plus its event streams), so 256 leaves room for an office of users behind one NAT address while keeping one client from taking every connection. Load tests from one address (bench/streams, the integration suite) pass a larger value or 0."
    )
    var maxConnectionsPerIp = 256

    @Option(
        help:
            "Seconds a request may take to arrive whole, headers and body, counted from the connection's opening or its previous request's end, however slowly its bytes trickle (0: no limit); past it the connection is closed. Streams, once answered, are exempt."
    )
    var requestTimeout = 30

    @Option(help: "Threads of the HTTP server (0: one per core).")
    var threads = 0

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel: Logger.Level = .info

    @Option(help: "text, or json: one JSON object per line (time to the millisecond, level, message, request id, route, status, …).")
    var logFormat: LogFormat = .text

    enum LogFormat: String, ExpressibleByArgument {
        case text, json
    }

    func validate() throws {
        guard ByteSize.parse(maxBody) != nil else { throw ValidationError("--max-body: not a size: \(maxBody)") }
        guard let memory = ByteSize.parse(connectionMemory), (4 << 10)...(1 << 20) ~= memory else {
            throw ValidationError("--connection-memory: a size from 4KiB to 1MiB, not \(connectionMemory)")
        }
        guard maxLimit > 0 else { throw ValidationError("--max-limit must be positive") }
        // Bounded so that the conversion to a Duration cannot overflow (an hour is "never").
        guard (0...3_600_000).contains(listBudget) else {
            throw ValidationError("--list-budget: milliseconds from 0 to 3600000, not \(listBudget)")
        }
        guard ByteSize.parse(readCache) != nil else { throw ValidationError("--read-cache: not a size: \(readCache)") }
        guard ByteSize.parse(documentCache, allowingZero: true) != nil else {
            throw ValidationError("--document-cache: not a size: \(documentCache)")
        }
        guard ByteSize.parse(streamBuffer) != nil else { throw ValidationError("--stream-buffer: not a size: \(streamBuffer)") }
        guard mongoLease > 0 else { throw ValidationError("--mongo-lease must be positive") }
        guard mongoPoll >= 0 else { throw ValidationError("--mongo-poll must not be negative") }
        guard maxConnectionsPerIp >= 0 else { throw ValidationError("--max-connections-per-ip must not be negative") }
        guard requestTimeout >= 0 else { throw ValidationError("--request-timeout must not be negative") }
        guard heartbeat > 0, maxStreams > 0, retainCount > 0, retainSeconds > 0 else {
            throw ValidationError("--heartbeat, --max-streams, --retain-count and --retain-seconds must be positive")
        }
    }

    func run() throws {
        let entry = StoreRegistry.entry(for: store)
        if case .sibling(let executable) = entry {
            try SiblingExecutable.handOver(to: executable, for: "a MongoDB store")  // does not return
        }
        // Before any thread starts (the store's, the MongoDB driver's): a thread inherits
        // the mask, and one that does not block SIGHUP would be killed by it, process and all.
        Signals.block()
        let format = logFormat
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? JSONLogHandler() : StreamLogHandler.standardError(label: label)
            handler.logLevel = .trace
            return handler
        }
        var logger = Logger(label: "backbone-sse")
        logger.logLevel = logLevel

        let appConfig = try ConfigFile.load(config)
        var roots: [StaticFiles.Root] = []
        for spec in staticDirectories {
            guard let root = StaticFiles.Root(spec) else {
                FileHandle.standardError.write(Data("backbone-sse: --static \(spec): no such folder\n".utf8))
                throw ExitCode(2)
            }
            roots.append(root)
        }

        var devTokenIssuer: DevTokenIssuer?
        if devTokens {
            guard let auth = appConfig.auth, let issuer = DevTokenIssuer(auth) else {
                FileHandle.standardError.write(
                    Data("backbone-sse: --dev-tokens needs an auth block with auth.jwt.secret_env (a key of 32 bytes or more)\n".utf8))
                throw ExitCode(2)
            }
            devTokenIssuer = issuer
        }

        let opened = try openStore(entry, logger: logger)
        let documentStore = opened.store
        let app = try BackboneSSEApp(
            config: appConfig, store: documentStore, feed: opened.feed, broker: opened.broker,
            options: ServiceOptions(
                corsOrigins: corsOrigins, maxLimit: maxLimit, staticRoots: roots, devTokens: devTokenIssuer,
                listBudget: .microseconds(Int64(listBudget * 1000))),
            streams: StreamOptions(
                maxStreams: maxStreams, heartbeat: heartbeat, bufferBytes: ByteSize.parse(streamBuffer)!,
                retainCount: retainCount, retainSeconds: retainSeconds),
            logger: logger)
        FileLimits.raise(toAtLeast: maxStreams + 1024, logger: logger)

        let server = MicroHTTPDServer(
            configuration: HTTPServerConfiguration(
                host: host, port: port, threads: threads, connectionLimit: maxStreams + 4096,
                perAddressConnectionLimit: maxConnectionsPerIp, requestTimeout: requestTimeout,
                connectionMemoryLimit: ByteSize.parse(connectionMemory)!, maxBodyBytes: ByteSize.parse(maxBody)!),
            logger: logger,
            errorResponse: { app.errorResponse($0, $1, $2, $3) },
            handler: { request, responder in app.handle(request, responder) })
        let bound: UInt16
        do {
            bound = try server.start()
        } catch {
            logger.critical("the server did not start", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
        // The warnings come before the address: a script that reads up to the "listening"
        // line has seen them.
        if appConfig.auth == nil, !Self.isLoopback(host) {
            logger.warning(
                "no 'auth' block in the config: anyone who can reach this address may read, change and delete every document",
                metadata: ["host": "\(host)"])
        }
        if devTokens {
            logger.warning(
                "--dev-tokens: POST /auth/dev-token signs a token for any name: anyone who can reach this server can act as anyone",
                metadata: ["host": "\(host)"])
        }
        // The address stays in the message: scripts and tests read it from there.
        logger.notice(
            "listening on http://\(host):\(bound)",
            metadata: [
                "store": "\(documentStore.description)",
                "collections": "\(appConfig.collections.map(\.name).joined(separator: ","))",
            ])
        if case .failed(let code) = SystemdNotify.ready(status: "listening on http://\(host):\(bound)") {
            logger.warning(
                "NOTIFY_SOCKET is set but systemd could not be told the server is ready (is libsystemd.so.0 installed?)",
                metadata: ["result": "\(code)"])
        }
        // Last: what starting up touched is done with (the start-up lines are out).
        StartupPages.release(logger: logger)
        let signal = withExtendedLifetime(opened) { () -> Int32 in
            while true {
                let signal = Signals.wait()
                guard signal == SIGHUP else { return signal }
                SystemdNotify.reloading()
                let outcome = reload(app, logger: logger)
                SystemdNotify.ready(status: outcome)
            }
        }
        logger.notice("shutting down", metadata: ["signal": "\(signal)"])
        SystemdNotify.stopping()
        server.quiesce()
        app.shutdown()
        server.stop()
        logger.notice("stopped")
    }

    /// SIGHUP: the config file read again and put in force, or refused with the reason
    /// (the old config stays).
    /// Returns what happened, in a few words (systemd's STATUS).
    private func reload(_ app: BackboneSSEApp, logger: Logger) -> String {
        let next: AppConfig
        do {
            next = try ConfigLoader.load(path: config)
        } catch {
            logger.error("config not reloaded: the file is not good; the old config stays", metadata: ["error": "\(error)"])
            return "config not reloaded: the file is not good"
        }
        switch app.reload(next) {
        case .success(let change) where change.isEmpty:
            logger.notice("config reloaded: no change")
            return "config reloaded: no change"
        case .success(let change):
            logger.notice(
                "config reloaded",
                metadata: [
                    "added": "\(change.added.joined(separator: ","))", "changed": "\(change.changed.joined(separator: ","))",
                    "rules_changed": "\(change.rulesChanged.joined(separator: ","))", "auth_changed": "\(change.authChanged)",
                ])
            return "config reloaded: \(change)"
        case .failure(let refused):
            logger.error("config not reloaded: the old config stays", metadata: ["reason": "\(refused)"])
            return "config not reloaded: \(refused)"
        }
    }

    /// Only this machine can reach the address.
    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host == "[::1]" || host.hasPrefix("127.")
    }

    private func openStore(_ entry: StoreRegistry.Entry?, logger: Logger) throws -> OpenedStore {
        guard case .opener(let open) = entry else {
            FileHandle.standardError.write(
                Data("backbone-sse: --store \(store): unsupported (use sqlite:PATH or mongodb://HOST[:PORT]/DATABASE)\n".utf8))
            throw ExitCode(2)
        }
        let settings = StoreSettings(
            url: store, durability: durability, readCacheBytes: ByteSize.parse(readCache)!,
            documentCacheBytes: ByteSize.parse(documentCache, allowingZero: true)!, mongoLease: mongoLease,
            mongoPoll: mongoPoll, pubsub: pubsub, logger: logger)
        do {
            return try open(settings)
        } catch let error as StoreFlagError {
            FileHandle.standardError.write(Data("backbone-sse: \(error)\n".utf8))
            throw ExitCode(2)
        } catch {
            logger.critical("the store did not open", metadata: ["error": "\(error)"])
            throw ExitCode(1)
        }
    }
}

extension SQLiteStore.Durability: ExpressibleByArgument {}
extension Logger.Level: @retroactive ExpressibleByArgument {}
