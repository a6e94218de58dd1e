import ArgumentParser
import BackboneSSE
import DocumentStore
import Foundation
import Logging
import SQLiteStore
import Synchronization

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

    /// What a command does with a store.
    enum Use {
        /// Reads (`export`, a copy's source): the store must exist; nothing a live server
        /// relies on changes (`attach`), and no server lock is taken, so it may run
        /// beside a server.
        case read
        /// Writes (`import`, a copy's target, `restore --epoch-only`): refused while a
        /// server has a SQLite file open, whose lock (`SQLiteServerLock`) the command
        /// then holds until it exits; with `create`, the store is made when missing
        /// and `prepare`d as the config says.
        case write(create: Bool)
    }

    /// The store of `url`, for `collections`.
    static func open(_ url: String, flag: String, collections: [CollectionLayout], use: Use) throws -> any BulkTransfer {
        guard case .opener(let open) = StoreRegistry.entry(for: url) else {
            throw CommandFailure.usage("\(flag) \(url): unsupported (use sqlite:PATH or mongodb://HOST[:PORT]/DATABASE)")
        }
        let sqlitePath = StoreRegistry.scheme(of: url) == "sqlite" ? String(url.drop { $0 != ":" }.dropFirst()) : nil
        var create = false
        if case .write(let c) = use {
            create = c
            try SQLiteURL.refuseInUse(url, flag: flag)
        }
        if !create, let sqlitePath, !FileManager.default.fileExists(atPath: sqlitePath) {
            throw CommandFailure.usage("\(flag) \(url): no such file")
        }
        let settings = StoreSettings(
            url: withBulkTimeout(url), durability: .normal, readCacheBytes: 8 << 20, documentCacheBytes: 0, mongoLease: 30,
            mongoPoll: 0, pubsub: nil,
            logger: CommandLog.logger)
        do {
            let store: any DocumentStore
            if case .read = use, let sqlitePath {
                store = try SQLiteStore(
                    path: sqlitePath, readCacheBytes: settings.readCacheBytes, documentCacheBytes: 0, logger: settings.logger)
            } else {
                let opened = try open(settings)
                held.withLock { $0.append(opened) }  // the server lock, until the process exits
                store = opened.store
            }
            guard let transfer = store as? any BulkTransfer else {
                throw CommandFailure.usage("\(flag) \(url): this store cannot export or import")
            }
            if create {
                try transfer.prepare(collections)
            } else {
                try transfer.attach(collections)
            }
            return transfer
        } catch let failure as CommandFailure {
            throw failure
        } catch let flagError as StoreFlagError {
            throw CommandFailure.usage("\(flag) \(url): \(flagError.message)")
        } catch {
            throw CommandFailure.failed("\(flag) \(url): \(error)")
        }
    }

    /// Stores opened for writing, with their locks: kept for the process's life.
    private static let held = Mutex<[OpenedStore]>([])

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
