// The server with the embedded SQLite store. A MongoDB store (--store mongodb://…) is
// served by backbone-sse-mongodb, which this hands over to (see SiblingExecutable).
import ServerCommand

BackboneSSECommand.main()
