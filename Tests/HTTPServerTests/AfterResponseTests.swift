@testable import HTTPServer
import Synchronization
import Testing

@Suite struct AfterResponseTests {
    @Test func outsideAHandlerWorkRunsAtOnce() {
        let ran = Atomic<Int>(0)
        AfterResponse.run { ran.add(1, ordering: .relaxed) }
        #expect(ran.load(ordering: .relaxed) == 1)
    }

    @Test func insideAHandlerWorkWaitsForTheAnswer() {
        let ran = Atomic<Int>(0)
        let deferred = AfterResponse.collecting {
            AfterResponse.run { ran.add(1, ordering: .relaxed) }
            AfterResponse.run { ran.add(10, ordering: .relaxed) }
            #expect(ran.load(ordering: .relaxed) == 0)
        }
        #expect(ran.load(ordering: .relaxed) == 0)
        #expect(deferred.count == 2)
        for work in deferred { work() }
        #expect(ran.load(ordering: .relaxed) == 11)
        // And the thread is out of the handler again.
        AfterResponse.run { ran.add(100, ordering: .relaxed) }
        #expect(ran.load(ordering: .relaxed) == 111)
    }
}
