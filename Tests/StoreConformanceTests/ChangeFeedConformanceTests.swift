import DocumentStore
import Foundation
import Logging
import Synchronization
import TestSupport
import Testing

/// The change feeds the stream hub listens to: every change once, in sequence order,
/// the log read on a gap; for MongoDB, other instances' changes too.
@Suite struct ChangeFeedConformanceTests {
    /// The feed each store's opener gives it (`StoreRegistry`): the store's own commits
    /// for SQLite; those completed from the log for MongoDB.
    static func feed(for store: any DocumentStore, _ kind: StoreKind, every interval: Double = 0.1) -> any ChangeFeed {
        switch kind {
        case .sqlite: StoreCommitFeed(store)
        case .mongodb: LogPollingFeed(StoreCommitFeed(store), store: store, every: interval, logger: Logger(label: "feed"))
        }
    }

    @Test(arguments: StoreKind.allCases) func theFeedHandsOverEveryCommitOnceInOrder(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let feed = Self.feed(for: store, kind)
        defer { feed.stop() }
        let seen = Collector<Change>()
        feed.start(after: try store.head().sequence) { seen.append(contentsOf: $0) }
        let results = Collector<Result<WriteResult, StoreError>>()
        DispatchQueue.concurrentPerform(iterations: 60) { i in
            results.append(
                commit(store, "f\(i % 20)") { current in
                    var document = current?.parsed() ?? JSONObject([("id", .string("f\(i % 20)"))])
                    let version = (current?.version ?? 0) + 1
                    document["_v"] = .int(version)
                    return current == nil ? .insert(document, version: version) : .update(document, version: version)
                })
        }
        let committed = try results.values.map { try $0.get().change }.sorted { $0.sequence < $1.sequence }
        #expect(committed.count == 60)
        waitFor { seen.values.count >= 60 }
        Thread.sleep(forTimeInterval: 0.2)  // nothing more (no duplicate) comes later
        #expect(seen.values == committed)
    }

    /// A feed that cannot see every commit (here: told of the third change only) reads
    /// the missing ones from the log, and hands each over once, in order.
    @Test(arguments: StoreKind.allCases) func aLogPollingFeedReadsTheLogOnAGap(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let start = try store.head().sequence
        let written = try (1...3).map { try insert(store, #"{"id":"g\#($0)"}"#).change }
        let upstream = ManualFeed()
        let feed = LogPollingFeed(upstream, store: store, every: 0, logger: Logger(label: "feed"))
        defer { feed.stop() }
        let seen = Collector<Change>()
        feed.start(after: start) { seen.append(contentsOf: $0) }
        upstream.send([written[2]])
        waitFor { seen.values.count >= 3 }
        #expect(seen.values == written)
        // Late reports of what the log gave are dropped; a new change goes at once.
        upstream.send([written[1], written[2]])
        let fourth = try insert(store, #"{"id":"g4"}"#).change
        upstream.send([fourth])
        waitFor { seen.values.count >= 4 }
        Thread.sleep(forTimeInterval: 0.1)
        #expect(seen.values == written + [fourth])
        #expect(upstream.startedAfter == start)
    }

    /// Several servers on one MongoDB database: a change made through another store
    /// instance reaches this one's feed in log order, between this instance's own, once;
    /// by the periodic poll, or at once when told that the log has grown.
    @Test(arguments: [StoreKind.mongodb]) func anotherInstancesChangesReachTheFeed(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let other = try fixture.reopen()
        let feed = LogPollingFeed(StoreCommitFeed(fixture.store), store: fixture.store, every: 0.1, logger: Logger(label: "feed"))
        defer { feed.stop() }
        let seen = Collector<Change>()
        feed.start(after: try fixture.store.head().sequence) { seen.append(contentsOf: $0) }
        var written: [Change] = []
        written.append(try insert(other, #"{"id":"o1"}"#).change)
        written.append(try insert(fixture.store, #"{"id":"m1"}"#).change)
        written.append(try insert(other, #"{"id":"o2"}"#).change)
        written.append(try update(fixture.store, "o2", [("seen", .bool(true))]).change)
        waitFor { seen.values.count >= 4 }
        Thread.sleep(forTimeInterval: 0.3)  // a few more polls: nothing twice
        #expect(seen.values == written)

        // No periodic poll: a nudge (what a broker would give) reads the log.
        let nudged = LogPollingFeed(ManualFeed(), store: fixture.store, every: 0, logger: Logger(label: "feed"))
        defer { nudged.stop() }
        let heard = Collector<Change>()
        nudged.start(after: try fixture.store.head().sequence) { heard.append(contentsOf: $0) }
        let later = try insert(other, #"{"id":"o3"}"#).change
        Thread.sleep(forTimeInterval: 0.2)
        #expect(heard.values.isEmpty)
        nudged.logMayHaveGrown()
        waitFor { !heard.values.isEmpty }
        #expect(heard.values == [later])
    }
}

func waitFor(seconds: Double = 10, _ condition: () -> Bool) {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition(), Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
}
