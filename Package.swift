// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "backbone-sse",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "backbone-sse", targets: ["backbone-sse"]),
        .executable(name: "backbone-sse-mongodb", targets: ["backbone-sse-mongodb"]),
        // For the libFuzzer targets in Fuzz/, a package of its own that depends on this one
        // (a product is the only way in); nothing else is meant to link these.
        .library(name: "DocumentStore", targets: ["DocumentStore"]),
        .library(name: "SQLiteStore", targets: ["SQLiteStore"]),
        .library(name: "BackboneSSE", targets: ["BackboneSSE"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.7.1"),
        // Already under jwt-kit; named for the stream tickets' HMAC (Auth/StreamTicket.swift).
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
    ],
    targets: [
        // libmicrohttpd through pkg-config, with a shim for its variadic functions.
        .systemLibrary(
            name: "CMicroHTTPD",
            pkgConfig: "libmicrohttpd",
            providers: [.apt(["libmicrohttpd-dev"])]
        ),
        // epoll and eventfd, which Glibc's module leaves out.
        .systemLibrary(name: "CLinuxEvents"),
        // The one Swift wrapper over libmicrohttpd: unsafe pointers stay in here.
        .target(
            name: "HTTPServer",
            dependencies: [
                "CMicroHTTPD",
                "CLinuxEvents",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // Documents, the store-neutral filter tree and the DocumentStore protocol.
        .target(name: "DocumentStore", dependencies: [.product(name: "Logging", package: "swift-log")]),
        // The embedded default store: SQLite through GRDB.
        .target(
            name: "SQLiteStore",
            dependencies: [
                "DocumentStore",
                "CSQLite",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The system SQLite (the one GRDB links) through pkg-config: a shim for what GRDB
        // has no API for (the variadic sqlite3_config) and what HotStatements needs to
        // step GRDB's statements itself.
        .systemLibrary(
            name: "CSQLite",
            pkgConfig: "sqlite3",
            providers: [.apt(["libsqlite3-dev"])]
        ),
        // libmongoc/libbson through pkg-config, with a shim for their aligned types.
        .systemLibrary(
            name: "CMongoc",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]
        ),
        // The production store: MongoDB through libmongoc.
        .target(
            name: "MongoStore",
            dependencies: [
                "CMongoc",
                "DocumentStore",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // hiredis without pkg-config (see shim.h: its cflags draw a SwiftPM warning).
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        // Instances tell each other the change log grew: Redis PUBLISH/SUBSCRIBE over
        // hiredis, each on a thread of its own; unsafe pointers stay in RedisConnection.
        .target(
            name: "RedisPubSub",
            dependencies: [
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The feed of a server sharing its store through Redis (`--pubsub`): announces
        // its commits, and reads the change log when another server announces one.
        .target(
            name: "RedisFeed",
            dependencies: [
                "DocumentStore",
                "RedisPubSub",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The service: config, schemas, queries, routing, REST handlers, system endpoints.
        .target(
            name: "BackboneSSE",
            dependencies: [
                "HTTPServer",
                "DocumentStore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                // Verifies bearer tokens (Auth/TokenVerifier.swift); nothing else sees it.
                .product(name: "JWTKit", package: "jwt-kit"),
                // Signs and checks stream tickets (Auth/StreamTicket.swift).
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            resources: [.copy("Resources")]
        ),
        // sd_notify(3) for systemd's Type=notify, opened only under systemd (see shim.h).
        .systemLibrary(name: "CSystemd"),
        .target(name: "SystemdNotify", dependencies: ["CSystemd"]),
        // Export, import and copy (JSON Lines, checked against the config's schemas),
        // with the progress indicator: what the transfer commands run.
        .target(name: "DataTransfer", dependencies: ["BackboneSSE", "DocumentStore"]),
        // The command line: parses flags and wires the parts together.
        .target(
            name: "ServerCommand",
            dependencies: [
                "BackboneSSE",
                "DataTransfer",
                "DocumentStore",
                "HTTPServer",
                "SQLiteStore",
                "SystemdNotify",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The server with the embedded store; it hands a MongoDB store over to the next.
        .executableTarget(name: "backbone-sse", dependencies: ["ServerCommand"]),
        // The same with libmongoc linked in (kept apart: see SiblingExecutable).
        .executableTarget(
            name: "backbone-sse-mongodb", dependencies: ["ServerCommand", "MongoStore", "DocumentStore", "RedisFeed", "RedisPubSub"]),
        .testTarget(
            name: "HTTPServerTests", dependencies: ["HTTPServer", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        // Starts the MongoDB test double (Tests/mongo) for the Swift tests.
        .target(name: "MongoDoubleSupport", path: "Tests/MongoDoubleSupport"),
        // Helpers shared by the test targets (waiting for a callback's answer, a captured log).
        .target(
            name: "TestSupport", dependencies: ["DocumentStore", .product(name: "Logging", package: "swift-log")], path: "Tests/TestSupport"
        ),
        .testTarget(
            name: "MongoStoreTests",
            dependencies: [
                "MongoStore", "DocumentStore", "MongoDoubleSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        // One suite of store behaviours, run against every DocumentStore backend.
        .testTarget(
            name: "StoreConformanceTests",
            dependencies: [
                "SQLiteStore", "MongoStore", "DocumentStore", "MongoDoubleSupport", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
            ]),
        .testTarget(name: "RedisFeedTests", dependencies: ["RedisFeed"]),
        .testTarget(
            name: "DataTransferTests", dependencies: ["DataTransfer", "BackboneSSE", "DocumentStore", "SQLiteStore", "TestSupport"]),
        // The hiredis wrapper against a real redis-server the tests start themselves.
        .testTarget(
            name: "RedisPubSubTests", dependencies: ["RedisPubSub", "TestSupport", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "DocumentStoreTests", dependencies: ["DocumentStore", .product(name: "Logging", package: "swift-log")]),
        .testTarget(
            name: "SQLiteStoreTests",
            dependencies: ["SQLiteStore", "DocumentStore", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        // Config, queries, schemas, and the HTTP layer in process (Support/TestApp.swift).
        .testTarget(
            name: "BackboneSSETests",
            dependencies: [
                "BackboneSSE", "DocumentStore", "HTTPServer", "SQLiteStore", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                // Signs the tests' tokens, forged ones included.
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            exclude: ["Fixtures"]),
    ],
    swiftLanguageModes: [.v6]
)
