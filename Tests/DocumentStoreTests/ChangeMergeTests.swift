@testable import DocumentStore
import Testing

/// How `LogPollingFeed` merges its upstream's changes with the log's, without I/O.
@Suite struct ChangeMergeTests {
    func change(_ sequence: Int64) -> Change {
        Change(
            sequence: sequence, collection: "c", id: "d\(sequence)", operation: .create, version: 1,
            document: "{}", previous: nil, origin: nil, time: 0)
    }

    func sequences(_ changes: [Change]) -> [Int64] { changes.map(\.sequence) }

    @Test func changesInOrderGoAtOnce() {
        var merge = ChangeMerge(delivered: 10)
        #expect(sequences(merge.reported([change(11), change(12)])) == [11, 12])
        #expect(sequences(merge.reported([change(13)])) == [13])
        #expect(!merge.hasGap)
        #expect(merge.delivered == 13)
    }

    @Test func aChangePastAGapWaitsForTheLog() {
        var merge = ChangeMerge(delivered: 10)
        #expect(merge.reported([change(13)]).isEmpty)
        #expect(merge.hasGap)
        // The log is not complete up to 13 yet (12's writer is still at work).
        #expect(sequences(merge.read([change(11)], through: 11)) == [11])
        #expect(merge.hasGap)
        // Now it is; 12 was void. 13 goes once, from the log.
        #expect(sequences(merge.read([change(13)], through: 13)) == [13])
        #expect(!merge.hasGap)
        #expect(merge.delivered == 13)
    }

    @Test func theLogReleasesWhatWaitsPastItsHead() {
        var merge = ChangeMerge(delivered: 10)
        #expect(merge.reported([change(12), change(13)]).isEmpty)
        #expect(sequences(merge.read([change(11)], through: 11)) == [11, 12, 13])
        #expect(merge.delivered == 13)
    }

    @Test func nothingGoesTwice() {
        var merge = ChangeMerge(delivered: 10)
        #expect(sequences(merge.read([change(11), change(12)], through: 12)) == [11, 12])
        // The upstream reports what the log already gave, and a read that started earlier ends.
        #expect(merge.reported([change(11), change(12)]).isEmpty)
        #expect(merge.read([change(11), change(12)], through: 12).isEmpty)
        #expect(sequences(merge.reported([change(12), change(13)])) == [13])
        #expect(merge.reported([change(9)]).isEmpty)  // at or below the start
    }

    @Test func aReadFindsChangesNobodyReported() {
        var merge = ChangeMerge(delivered: 0)
        #expect(sequences(merge.read([change(1), change(3)], through: 4)) == [1, 3])
        #expect(merge.delivered == 4)  // 2 and 4 were void
        #expect(sequences(merge.reported([change(5)])) == [5])
    }
}
