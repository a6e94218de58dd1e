import Testing

@testable import RedisFeed

/// The delivery-lag figures: an announcement is timed when the change it announced is
/// handed over here, once, and never when the poll of the log brought it first.
@Suite struct PendingLagsTests {
    @Test func anAnnouncedChangeIsTimedWhenHandedOver() {
        var lags = PendingLags()
        lags.announced(5, at: 100.0)
        lags.announced(7, at: 100.5)
        lags.delivered(through: 5, now: 100.25)
        #expect(lags.take() == [0.25])
        lags.delivered(through: 9, now: 101.0)
        #expect(lags.take() == [0.5])
        #expect(lags.take().isEmpty)
    }

    @Test func anAnnouncementThatComesAfterItsChangeTimesNothing() {
        var lags = PendingLags()
        lags.delivered(through: 12, now: 50.0)  // the poll found it
        lags.announced(12, at: 49.9)
        lags.announced(11, at: 49.8)
        lags.delivered(through: 13, now: 50.1)
        #expect(lags.take().isEmpty)
    }

    @Test func aRepeatedOrOlderAnnouncementCountsOnce() {
        var lags = PendingLags()
        lags.announced(3, at: 10.0)
        lags.announced(3, at: 10.2)
        lags.announced(2, at: 10.3)
        lags.delivered(through: 3, now: 10.5)
        #expect(lags.take() == [0.5])
    }

    @Test func pendingAnnouncementsAreBounded() {
        var lags = PendingLags()
        for sequence in 1...Int64(PendingLags.bound + 100) { lags.announced(sequence, at: 1.0) }
        lags.delivered(through: Int64.max, now: 2.0)
        #expect(lags.take().count == PendingLags.bound)
    }
}
