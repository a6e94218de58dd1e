// swift-tools-version:6.0
import PackageDescription

// The libFuzzer targets, a package of their own so that the server's `swift build`,
// `swift test` and release build never see them: they link only when built with
// `-sanitize=fuzzer`, and they `@testable import` the server's internal query types
// (a debug build of a dependency is built for testing). `make fuzz` builds them.
let package = Package(
    name: "backbone-sse-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, because a path dependency is known by its folder's name otherwise, and a
        // clone may live in any folder.
        .package(name: "backbone-sse", path: ".."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        // libFuzzer's driver, called from an ordinary `main`, and replaying files without it.
        .target(name: "FuzzSupport"),
        .executableTarget(
            name: "fuzz-json",
            dependencies: ["FuzzSupport", .product(name: "DocumentStore", package: "backbone-sse")]),
        .executableTarget(
            name: "fuzz-query",
            dependencies: [
                "FuzzSupport",
                .product(name: "BackboneSSE", package: "backbone-sse"),
                .product(name: "DocumentStore", package: "backbone-sse"),
            ]),
        .executableTarget(
            name: "fuzz-filter-sql",
            dependencies: [
                "FuzzSupport",
                .product(name: "DocumentStore", package: "backbone-sse"),
                .product(name: "SQLiteStore", package: "backbone-sse"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(
            name: "fuzz-cursor",
            dependencies: ["FuzzSupport", .product(name: "DocumentStore", package: "backbone-sse")]),
    ],
    swiftLanguageModes: [.v6]
)
