@testable import HTTPServer
import Testing

/// What `stop` waits for, without a server: admitted requests, refused ones, and the
/// release that wakes a waiting `stop`.
@Suite struct AdmissionTests {
    @Test func stopWithNothingPendingDoesNotWait() {
        var a = Admission()
        #expect(a.beginStop() == false)
        #expect(a.admit() == false)  // refused once stopping
    }

    @Test func theLastReleaseWakesTheWaitingStop() {
        var a = Admission()
        #expect(a.admit() == true)
        #expect(a.admit() == true)
        #expect(a.beginStop() == true)
        #expect(a.admit() == false)
        #expect(a.release() == false)  // one still pending
        #expect(a.release() == true)  // the last one: wake `stop`
        #expect(a.pending == 0)
    }

    @Test func releasesWithoutAStopWakeNobody() {
        var a = Admission()
        #expect(a.admit() == true)
        #expect(a.release() == false)
        a.quiesce()
        #expect(a.stopping)
        #expect(a.admit() == false)
    }

    @Test func aStopThatGaveUpIsNotWokenLater() {
        var a = Admission()
        #expect(a.admit() == true)
        #expect(a.beginStop() == true)
        a.stopGaveUp()
        #expect(a.release() == false)
    }
}
