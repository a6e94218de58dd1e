import BackboneSSE
import DocumentStore
import Foundation
import HTTPServer
import Logging
import SQLiteStore
import Synchronization
import Testing

/// A `BackboneSSEApp` without a socket, in Hummingbird's manner: built from a YAML
/// config on a fresh SQLite file, answering `HTTPRequest`s through `handle(_:respond:)`.
///
///     try await TestApp.run { app in
///         let r = try await app.post("/todos", json: #"{"title":"x"}"#)
///         #expect(r.status == 201)
///     }
///
/// Only the app's public entry points are used, so routing can change underneath.
struct TestApp: Sendable {
    /// The collections of the integration suite (Tests/support/collections.yaml), so
    /// that tests moved from pytest see the same collections.
    static let defaultConfig: String = {
        let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../support/collections.yaml").standardized
        guard let text = try? String(contentsOf: file, encoding: .utf8) else {
            fatalError("the test config is missing: \(file.path)")
        }
        return text
    }()

    let app: BackboneSSEApp
    let directory: URL
    /// How long one request may take before the test fails instead of hanging.
    var timeout: Duration = .seconds(10)

    init(
        config: String = defaultConfig, options: ServiceOptions = ServiceOptions(), streams: StreamOptions = StreamOptions(),
        context: ConfigContext = TestTokens.context
    ) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("backbone-sse-app-\(UUID().uuidString)")
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = try SQLiteStore(path: directory.appendingPathComponent("app.sqlite").path, logger: logger)
        app = try BackboneSSEApp(
            config: try ConfigLoader.parse(config, context: context), store: store, options: options, streams: streams, logger: logger)
    }

    /// Runs `body` on a new app, then shuts it down (its stream hub has timers) and
    /// removes its store, whether `body` threw or not.
    static func run(
        config: String = defaultConfig, options: ServiceOptions = ServiceOptions(), streams: StreamOptions = StreamOptions(),
        _ body: (TestApp) async throws -> Void
    ) async throws {
        let app = try TestApp(config: config, options: options, streams: streams)
        defer { app.shutdown() }
        try await body(app)
    }

    func shutdown() {
        app.shutdown()
        try? FileManager.default.removeItem(at: directory)
    }

    // MARK: Requests

    /// Sends one request and waits for its answer (writes answer later, from the
    /// store's writer thread). Past `timeout` the test fails with `TestAppError.timedOut`.
    func request(
        _ method: String, _ target: String, body: [UInt8] = [], headers: [(name: String, value: String)] = []
    ) async throws -> TestResponse {
        let request = HTTPRequest(method: method, target: target, headers: headers, body: body)
        let answer = OneAnswer()
        let response: HTTPResponse? = await withCheckedContinuation { continuation in
            answer.wait(continuation, timeout: timeout)
            app.handle(request) { answer.give($0) }
        }
        guard let response else {
            Issue.record("no answer to \(method) \(target) within \(timeout)")
            throw TestAppError.timedOut(method: method, target: target)
        }
        return TestResponse(response)
    }

    func request(
        _ method: String, _ target: String, body: String, headers: [(name: String, value: String)] = []
    ) async throws -> TestResponse {
        try await request(method, target, body: Array(body.utf8), headers: headers)
    }

    /// A request with a JSON body and `Content-Type: application/json`.
    func request(
        _ method: String, _ target: String, json: String, headers: [(name: String, value: String)] = []
    ) async throws -> TestResponse {
        try await request(method, target, body: Array(json.utf8), headers: [("Content-Type", "application/json")] + headers)
    }

    func get(_ target: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("GET", target, headers: headers)
    }

    func post(_ target: String, json: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("POST", target, json: json, headers: headers)
    }

    func put(_ target: String, json: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("PUT", target, json: json, headers: headers)
    }

    func patch(_ target: String, json: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("PATCH", target, json: json, headers: headers)
    }

    func delete(_ target: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("DELETE", target, headers: headers)
    }

    func options(_ target: String, headers: [(name: String, value: String)] = []) async throws -> TestResponse {
        try await request("OPTIONS", target, headers: headers)
    }

    // MARK: Conveniences of the pytest suite

    /// `POST /{collection}` that must answer 201; the stored document.
    @discardableResult
    func create(
        _ json: String, in collection: String = "todos", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONObject {
        let r = try await post("/\(collection)", json: json)
        #expect(r.status == 201, "\(r.text)", sourceLocation: sourceLocation)
        return try #require(r.object, sourceLocation: sourceLocation)
    }

    /// The stored document, or nil on 404.
    func document(
        _ id: String, in collection: String = "todos", sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> JSONObject? {
        let r = try await get("/\(collection)/\(id)")
        if r.status == 404 { return nil }
        #expect(r.status == 200, "\(r.text)", sourceLocation: sourceLocation)
        return r.object
    }

    /// Documents in a collection: `limit=0` returns no rows but, when any exist, says
    /// how many in `X-Total-Count`.
    func count(_ collection: String = "todos", sourceLocation: SourceLocation = #_sourceLocation) async throws -> Int {
        let r = try await get("/\(collection)?limit=0")
        #expect(r.status == 200, "\(r.text)", sourceLocation: sourceLocation)
        #expect(r.json == .array([]), sourceLocation: sourceLocation)
        return Int(r.header("X-Total-Count") ?? "0") ?? -1
    }
}

enum TestAppError: Error {
    case timedOut(method: String, target: String)
}

/// The first of an answer and a timeout resumes the waiting test; the other is ignored.
/// (The timer is left to fire into nothing: a `DispatchWorkItem` to cancel is not
/// `Sendable`, and an idle timer costs nothing.)
private final class OneAnswer: Sendable {
    private let continuation = Mutex<CheckedContinuation<HTTPResponse?, Never>?>(nil)

    func wait(_ continuation: CheckedContinuation<HTTPResponse?, Never>, timeout: Duration) {
        self.continuation.withLock { $0 = continuation }
        let (seconds, attoseconds) = timeout.components
        let nanoseconds = Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(nanoseconds)) { self.resume(nil) }
    }

    func give(_ response: HTTPResponse) { resume(response) }

    private func resume(_ response: HTTPResponse?) {
        let waiting = continuation.withLock { c -> CheckedContinuation<HTTPResponse?, Never>? in
            defer { c = nil }
            return c
        }
        waiting?.resume(returning: response)
    }
}
