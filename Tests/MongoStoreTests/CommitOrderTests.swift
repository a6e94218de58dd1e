import DocumentStore
@testable import MongoStore
import Testing

/// The in-order hand-off to the stream hub, without I/O.
@Suite struct CommitOrderTests {
    func change(_ sequence: Int64) -> Change {
        Change(
            sequence: sequence, collection: "c", id: "d\(sequence)", operation: .create, version: 1,
            document: "{}", previous: nil, origin: nil, time: 0)
    }

    @Test func aLaterCommitWaitsForTheEarlierOne() {
        var order = CommitOrder(delivered: 10, allocated: 10)
        let a = order.allocate()
        let b = order.allocate()
        #expect((a, b) == (11, 12))
        #expect(order.committed(change(12)).isEmpty)  // 11 still in flight: hold 12
        #expect(order.committed(change(11)).map(\.sequence) == [11, 12])
        #expect(order.delivered == 12)
    }

    @Test func aVoidSequenceLetsTheNextOneGo() {
        var order = CommitOrder(delivered: 0, allocated: 0)
        _ = order.allocate()
        _ = order.allocate()
        _ = order.allocate()
        #expect(order.committed(change(3)).isEmpty)
        #expect(order.void(1).isEmpty)
        #expect(order.committed(change(2)).map(\.sequence) == [2, 3])
    }

    /// The feed (`LogPollingFeed`) sees the gap and reads the missing sequences from the log.
    @Test func aSequenceThisProcessDoesNotOwnIsPassedOver() {
        var order = CommitOrder(delivered: 5, allocated: 5)
        order.raise(to: 7)  // 6 and 7 went to another instance
        #expect(order.allocate() == 8)
        #expect(order.committed(change(8)).map(\.sequence) == [8])
        #expect(order.delivered == 8)
    }

    @Test func passingOverAnotherInstancesSequenceStillWaitsForOwnOnes() {
        var order = CommitOrder(delivered: 5, allocated: 5)
        order.raise(to: 6)  // 6 is another instance's
        let a = order.allocate()
        let b = order.allocate()
        #expect((a, b) == (7, 8))
        #expect(order.committed(change(8)).isEmpty)  // 7 is ours, in flight
        #expect(order.committed(change(7)).map(\.sequence) == [7, 8])
        #expect(order.void(order.allocate()).isEmpty)
        #expect(order.delivered == 8)  // a void after the last commit waits for the next
        order.raise(to: 12)
        #expect(order.committed(change(order.allocate())).map(\.sequence) == [13])
        #expect(order.delivered == 13)
    }

    @Test func aLostOutcomeIsLeftToTheLog() {
        var order = CommitOrder(delivered: 0, allocated: 0)
        _ = order.allocate()
        _ = order.allocate()
        #expect(order.committed(change(2)).isEmpty)  // 1 in flight
        // 1's connection went away mid-write: the log will say; 2 need not wait for it.
        #expect(order.release(1).map(\.sequence) == [2])
        // 1 did commit after all (its mark done was retried): the feed had it from the log.
        #expect(order.committed(change(1)).isEmpty)
        #expect(order.delivered == 2)
    }
}
