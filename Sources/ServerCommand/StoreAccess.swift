import ArgumentParser
import BackboneSSE
import DocumentStore
import Foundation
import Logging

/// How the operator commands (`export`, `import`, `copy`, `restore`) reach a store: by
/// the same `StoreRegistry` as `serve`, handing over to the sibling executable when a
/// store they name lives there (a MongoDB one), and with no server behind them.
enum StoreAccess {
    /// Becomes the sibling executable, same arguments, when one of `urls` needs it.
    static func handOverIfNeeded(_ urls: [String]) throws {
        for url in urls {
            if case .sibling(let executable) = StoreRegistry.entry(for: url) {
                try SiblingExecutable.handOver(to: executable, for: "a MongoDB store")
            }
        }
    }

    /// The store of `url`, prepared for `collections` (`prepare`, for a store to write
    /// to: tables and indexes as the config says), or only attached (`attach`: nothing a
    /// live server relies on changes) when `mustExist`; a SQLite file that is not
    /// there is then an error (exit 2), not a new empty store.
    static func open(_ url: String, flag: String, collections: [CollectionLayout], mustExist: Bool) throws -> any BulkTransfer {
        guard case .opener(let open) = StoreRegistry.entry(for: url) else {
            throw CommandFailure.usage("\(flag) \(url): unsupported (use sqlite:PATH or mongodb://HOST[:PORT]/DATABASE)")
        }
        if !mustExist { try SQLiteURL.refuseInUse(url, flag: flag) }
        if mustExist, StoreRegistry.scheme(of: url) == "sqlite" {
            let path = String(url.drop { $0 != ":" }.dropFirst())
            guard FileManager.default.fileExists(atPath: path) else { throw CommandFailure.usage("\(flag) \(url): no such file") }
        }
        let settings = StoreSettings(
            url: withBulkTimeout(url), durability: .normal, readCacheBytes: 8 << 20, mongoLease: 30, mongoPoll: 0, pubsub: nil,
            logger: CommandLog.logger)
        do {
            let store = try open(settings).store
            guard let transfer = store as? any BulkTransfer else {
                throw CommandFailure.usage("\(flag) \(url): this store cannot export or import")
            }
            if mustExist {
                try transfer.attach(collections)
            } else {
                try transfer.prepare(collections)
            }
            return transfer
        } catch let failure as CommandFailure {
            throw failure
        } catch {
            throw CommandFailure.failed("\(flag) \(url): \(error)")
        }
    }

    /// A MongoDB URL with a socket timeout of 5 minutes unless it sets its own: the
    /// server's 10 s suit one-document commands, not inserts of 1000 documents.
    static func withBulkTimeout(_ url: String) -> String {
        guard StoreRegistry.scheme(of: url)?.hasPrefix("mongodb") == true, !url.lowercased().contains("sockettimeoutms=") else {
            return url
        }
        return url + (url.contains("?") ? "&" : "?") + "socketTimeoutMS=300000"
    }

    /// The config file, or exit 2 with what is wrong in it.
    static func config(_ path: String) throws -> AppConfig {
        do {
            return try ConfigLoader.load(path: path)
        } catch {
            throw CommandFailure.usage("bad config: \(error)")
        }
    }
}
