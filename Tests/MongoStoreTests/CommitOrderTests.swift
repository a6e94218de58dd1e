import DocumentStore
@testable import MongoStore
import Testing

/// The in-order hand-off to the stream hub, without I/O.
@Suite struct CommitOrderTests {
    func change(_ sequence: Int64) -> Change {
        Change(sequence: sequence, collection: "c", id: "d\(sequence)", operation: .create, version: 1,
               document: "{}", previous: nil, origin: nil, time: 0)
    }

    @Test func aLaterCommitWaitsForTheEarlierOne() {
        var order = CommitOrder(delivered: 10, allocated: 10)
        let a = order.allocate(), b = order.allocate()
        #expect((a, b) == (11, 12))
        #expect(order.committed(change(12)).isEmpty)  // 11 still in flight: hold 12
        #expect(!order.needsLog)  // 11 is ours: wait for it, no log read
        #expect(order.committed(change(11)).map(\.sequence) == [11, 12])
        #expect(order.delivered == 12)
    }

    @Test func aVoidSequenceLetsTheNextOneGo() {
        var order = CommitOrder(delivered: 0, allocated: 0)
        _ = order.allocate(); _ = order.allocate(); _ = order.allocate()
        #expect(order.committed(change(3)).isEmpty)
        #expect(order.void(1).isEmpty)
        #expect(order.committed(change(2)).map(\.sequence) == [2, 3])
    }

    @Test func aSequenceThisProcessDoesNotOwnIsReadFromTheLog() {
        var order = CommitOrder(delivered: 5, allocated: 5)
        order.raise(to: 7)  // 6 and 7 went to another instance
        #expect(order.allocate() == 8)
        #expect(order.committed(change(8)).isEmpty)
        #expect(order.needsLog)
        // The log is settled up to 7; 6 was done, 7 void.
        #expect(order.fromLog([change(6)], through: 7).map(\.sequence) == [6, 8])
        #expect(!order.needsLog)
        #expect(order.delivered == 8)
    }

    @Test func aLostOutcomeIsSettledByTheLog() {
        var order = CommitOrder(delivered: 0, allocated: 0)
        _ = order.allocate(); _ = order.allocate()
        order.release(1)  // its connection went away mid-write
        #expect(order.committed(change(2)).isEmpty)
        #expect(order.needsLog)
        // The log says 1 committed, and has 2 as well: each is handed over once.
        #expect(order.fromLog([change(1), change(2)], through: 2).map(\.sequence) == [1, 2])
        #expect(order.committed(change(2)).isEmpty)
    }
}
