// backbone-sse with the MongoDB store linked in: `backbone-sse --store mongodb://…`
// hands over to this executable (see SiblingExecutable); it also takes every other
// store and flag.
import DocumentStore
import MongoStore
import ServerCommand

// Several servers may share one database: the log polling feed brings their changes to
// this one's streams, and fills in the sequences they took between this one's commits.
StoreRegistry.register(["mongodb", "mongodb+srv"]) { settings in
    let store = try MongoStore(
        connectionString: settings.url, options: MongoStore.Options(leaseSeconds: settings.mongoLease), logger: settings.logger)
    let feed = LogPollingFeed(StoreCommitFeed(store), store: store, every: settings.mongoPoll, logger: settings.logger)
    return OpenedStore(store: store, feed: feed)
}
BackboneSSECommand.main()
