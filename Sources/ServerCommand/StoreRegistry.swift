import DocumentStore
import Logging
import SQLiteStore
import Synchronization

/// What a store is opened with: `--store` and the flags that concern stores (each store
/// takes the ones meant for it).
public struct StoreSettings: Sendable {
    /// The whole `--store` value, e.g. `sqlite:data/app.sqlite`, `mongodb://host/db`.
    public let url: String
    public let durability: SQLiteStore.Durability
    public let readCacheBytes: Int
    /// `--document-cache`: documents read by id kept until changed (SQLite).
    public let documentCacheBytes: Int
    public let mongoLease: Double
    public let mongoPoll: Double
    /// `--pubsub`: the broker's URL as given (the opener parses it), or nil.
    public let pubsub: String?
    public let logger: Logger
}

/// A flag the opener found unusable: the server exits 2 with the flag named.
public struct StoreFlagError: Error, CustomStringConvertible {
    public let flag: String
    public let message: String

    public init(flag: String, message: String) {
        self.flag = flag
        self.message = message
    }

    public var description: String { "\(flag): \(message)" }
}

/// An open store and the feed its streams listen to.
public struct OpenedStore: Sendable {
    public let store: any DocumentStore
    public let feed: any ChangeFeed
    /// The broker the feed listens to as well, when `--pubsub` gave one.
    public let broker: (any BrokerStatus)?
    /// Held for as long as the server runs (a SQLite file's `SQLiteServerLock`).
    public let lock: (any Sendable)?

    public init(store: any DocumentStore, feed: any ChangeFeed, broker: (any BrokerStatus)? = nil, lock: (any Sendable)? = nil) {
        self.store = store
        self.feed = feed
        self.broker = broker
        self.lock = lock
    }
}

/// The stores `--store URL` can name, by the URL's scheme. `sqlite` is built in; the
/// MongoDB schemes are served by a sibling executable (see `SiblingExecutable`), which
/// registers their opener before it runs the command. A new backend is one
/// `register` call in the executable that links it.
public enum StoreRegistry {
    public typealias Opener = @Sendable (StoreSettings) throws -> OpenedStore

    enum Entry: Sendable {
        /// Opened in this process.
        case opener(Opener)
        /// Opened by the sibling executable of this name, which this process becomes.
        case sibling(String)
    }

    private static let entries = Mutex<[String: Entry]>([
        "sqlite": .opener(openSQLite),
        "mongodb": .sibling(SiblingExecutable.mongoDB),
        "mongodb+srv": .sibling(SiblingExecutable.mongoDB),
    ])

    /// Opens `schemes` (lower case, without the colon) with `opener` from now on.
    public static func register(_ schemes: [String], _ opener: @escaping Opener) {
        entries.withLock { entries in
            for scheme in schemes { entries[scheme] = .opener(opener) }
        }
    }

    /// How the store of `url` is opened; nil when no store takes its scheme.
    static func entry(for url: String) -> Entry? {
        guard let scheme = scheme(of: url) else { return nil }
        return entries.withLock { $0[scheme] }
    }

    /// The scheme of `url` in lower case (RFC 3986: a letter, then letters, digits,
    /// `+`, `-`, `.`, up to the first colon); nil when it has none.
    static func scheme(of url: String) -> String? {
        guard let colon = url.firstIndex(of: ":") else { return nil }
        let scheme = url[..<colon].lowercased()
        guard let first = scheme.first, first.isASCII, first.isLetter,
            scheme.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "+-.".contains($0)) })
        else { return nil }
        return scheme
    }

    /// `sqlite:PATH`: one process owns the file, so its own commits are the whole log.
    private static let openSQLite: Opener = { settings in
        if settings.pubsub != nil {
            throw StoreFlagError(
                flag: "--pubsub",
                message: "needs a MongoDB store (--store mongodb://…): a SQLite file belongs to one server, so there is no other to tell")
        }
        let path = String(settings.url.drop { $0 != ":" }.dropFirst())
        let lock: SQLiteServerLock
        do {
            lock = try SQLiteServerLock.acquire(database: path)
        } catch let held as SQLiteServerLock.Held {
            throw StoreFlagError(
                flag: "--store", message: "\(held); several instances share a MongoDB store instead (README, \"Several instances\")")
        }
        let store = try SQLiteStore(
            path: path, durability: settings.durability, readCacheBytes: settings.readCacheBytes,
            documentCacheBytes: settings.documentCacheBytes, logger: settings.logger)
        return OpenedStore(store: store, feed: StoreCommitFeed(store), lock: lock)
    }
}
