import DocumentStore
import MongoDoubleSupport
@testable import MongoStore
import Testing

/// The driver wrapper against the test double (or MONGODB_URI).
@Suite(.serialized) struct MongoClientPoolTests {
    @Test func runsCommandsAndReadsReplies() throws {
        let pool = try MongoClientPool(MongoDouble.shared.uri())
        let ping = try pool.command(BSONDocument(JSONObject([("ping", .int(1))])))
        #expect(ping.json["ok"]?.numberValue == 1)
        let insert = try pool.command(
            BSONDocument(
                JSONObject([
                    ("insert", .string("things")),
                    ("documents", .array([.object(JSONObject([("_id", .string("a")), ("n", .int(5_000_000_000))]))])),
                ])))
        #expect(insert.json["n"]?.numberValue == 1)
        let found = try pool.command(BSONDocument(JSONObject([("find", .string("things")), ("filter", .object(JSONObject()))])))
        let batch = found.json["cursor"]?.objectValue?["firstBatch"]?.arrayValue
        #expect(batch == [.object(JSONObject([("_id", .string("a")), ("n", .int(5_000_000_000))]))])
    }

    /// An export reads a collection a batch at a time, through `getMore`s.
    @Test func findBatchesHandsOverEveryBatchInOrder() throws {
        let pool = try MongoClientPool(MongoDouble.shared.uri())
        let documents = [3, 1, 5, 2, 4].map { BSONDocument(JSONObject([("_id", .string("d\($0)")), ("_c", .int(Int64($0)))])) }
        let insert = BSONDocument()
        insert.append("insert", .string("batched"))
        insert.append("documents", array: documents)
        _ = try pool.command(insert)
        var batches: [[String]] = []
        try pool.findBatches(
            "batched", filter: BSONDocument(), sort: BSONDocument(JSONObject([("_c", .int(1))])), batchSize: 2
        ) { batch in batches.append(batch.compactMap { $0["_id"]?.stringValue }) }
        #expect(batches == [["d1", "d2"], ["d3", "d4"], ["d5"]])
    }

    /// A list's budget as `maxTimeMS`: whole milliseconds rounded up, never 0 (which a
    /// server reads as no limit), never past the server's 32-bit range.
    @Test func aBudgetBecomesWholeMillisecondsOfMaxTime() {
        #expect(MongoClientPool.maxTimeMS(.nanoseconds(1)) == 1)
        #expect(MongoClientPool.maxTimeMS(.milliseconds(5)) == 5)
        #expect(MongoClientPool.maxTimeMS(.microseconds(5_001)) == 6)
        #expect(MongoClientPool.maxTimeMS(.seconds(3_600)) == 3_600_000)
        #expect(MongoClientPool.maxTimeMS(.seconds(1e12)) == Int64(Int32.max))
    }

    @Test func refusesAConnectionStringWithoutDatabase() {
        #expect(throws: MongoError.self) { try MongoClientPool("mongodb://127.0.0.1:1") }
    }

    @Test func aServerThatIsAwayIsUnavailableQuickly() throws {
        let pool = try MongoClientPool("mongodb://127.0.0.1:9/db")
        let start = ContinuousClock.now
        do {
            _ = try pool.command(BSONDocument(JSONObject([("ping", .int(1))])))
            Issue.record("a command to a closed port succeeded")
        } catch {
            #expect(error.kind == .unavailable, "\(error)")
            #expect(error.storeError.isUnavailable)
        }
        #expect(ContinuousClock.now - start < .seconds(10))
    }
}

extension StoreError {
    var isUnavailable: Bool {
        if case .unavailable = self { return true }
        return false
    }
}
