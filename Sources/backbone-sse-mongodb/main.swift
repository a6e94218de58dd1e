// backbone-sse with the MongoDB store linked in: `backbone-sse --store mongodb://…`
// hands over to this executable (see SiblingExecutable); it also takes every other
// store and flag.
import DocumentStore
import MongoStore
import RedisFeed
import RedisPubSub
import ServerCommand

// Several servers may share one database: the log polling feed brings their changes to
// this one's streams, and fills in the sequences they took between this one's commits.
// With `--pubsub`, Redis tells every server at once that another one has committed.
StoreRegistry.register(["mongodb", "mongodb+srv"]) { settings in
    // The flag first: a mistake in it stops the start before the store is reached.
    let redis: RedisURL?
    do {
        redis = try settings.pubsub.map { try RedisURL(parsing: $0) }
    } catch {
        throw StoreFlagError(flag: "--pubsub", message: "\(error)")
    }
    let store = try MongoStore(
        connectionString: settings.url, options: MongoStore.Options(leaseSeconds: settings.mongoLease), logger: settings.logger)
    guard let redis else {
        let feed = LogPollingFeed(StoreCommitFeed(store), store: store, every: settings.mongoPoll, logger: settings.logger)
        return OpenedStore(store: store, feed: feed)
    }
    let feed = RedisChangeFeed(
        StoreCommitFeed(store), store: store, epoch: try store.head().epoch, url: redis, poll: settings.mongoPoll,
        logger: settings.logger)
    return OpenedStore(store: store, feed: feed, broker: feed)
}
LinkedLibraries.register("libmongoc", MongoStore.libraryVersion)
LinkedLibraries.register("hiredis", RedisPubSub.libraryVersion)
BackboneSSECommand.main()
