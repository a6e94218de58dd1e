// backbone-sse with the MongoDB store linked in: `backbone-sse --store mongodb://…`
// hands over to this executable (see MongoDBStoreOpener); it also takes every other
// store and flag.
import MongoStore
import ServerCommand

MongoDBStoreOpener.register { connectionString, lease, poll, logger in
    try MongoStore(connectionString: connectionString, options: MongoStore.Options(leaseSeconds: lease, pollSeconds: poll), logger: logger)
}
BackboneSSECommand.main()
