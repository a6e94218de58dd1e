import HTTPServer
import Testing

/// The per-connection stream state machine, without I/O: queued, suspended, resumed,
/// closing.
@Suite struct StreamStateTests {
    @Test func initialBytesGoOutFirstThenTheReaderSuspends() {
        var s = StreamState(capacity: 100, initial: Array("hello".utf8))
        #expect(s.read(max: 3) == .send(3))
        #expect(Array(s.lastSent(3)) == Array("hel".utf8))
        #expect(s.read(max: 10) == .send(2))
        #expect(s.read(max: 10) == .suspend)
        #expect(s.suspended)
    }

    /// An idle stream keeps no bytes: once everything is sent, the reader that finds
    /// nothing more lets go of the buffer (its `hello`, or what a burst grew it to), and
    /// the next write starts a new one.
    @Test func aDrainedStreamLetsGoOfItsBuffer() {
        var s = StreamState(capacity: 100_000, initial: Array("hello".utf8))
        #expect(s.read(max: 10) == .send(5))
        #expect(s.buffered.capacity > 0)
        #expect(s.read(max: 10) == .suspend)
        #expect(s.buffered.capacity == 0)
        #expect(s.write(Array(repeating: 7, count: 50_000)) == .resume)
        #expect(s.read(max: 40_000) == .send(40_000))
        #expect(s.read(max: 40_000) == .send(10_000))
        #expect(s.lastSent(10_000).allSatisfy { $0 == 7 })
        #expect(s.read(max: 40_000) == .suspend)
        #expect(s.buffered.capacity == 0 && s.pendingCount == 0)
        #expect(s.write([1, 2]) == .resume)
        #expect(s.read(max: 10) == .send(2))
        #expect(Array(s.lastSent(2)) == [1, 2])
    }

    @Test func aWriteResumesASuspendedConnectionExactlyOnce() {
        var s = StreamState(capacity: 100)
        #expect(s.read(max: 10) == .suspend)
        #expect(s.write([1, 2]) == .resume)
        #expect(s.write([3]) == .none)  // already resumed: must not resume twice
        #expect(s.read(max: 10) == .send(3))
        #expect(s.read(max: 10) == .suspend)
    }

    @Test func aWriteWhileRunningDoesNotResume() {
        var s = StreamState(capacity: 100)
        #expect(s.write([1]) == .none)
        #expect(s.read(max: 10) == .send(1))
    }

    @Test func overflowQueuesNothing() {
        var s = StreamState(capacity: 4)
        #expect(s.write([1, 2, 3]) == .none)
        #expect(s.write([4, 5]) == .overflow)
        #expect(s.pendingCount == 3)
    }

    @Test func finishDrainsThenEnds() {
        var s = StreamState(capacity: 4)
        #expect(s.read(max: 10) == .suspend)
        #expect(s.finish(Array("bye".utf8)) == .resume)
        #expect(s.write([1]) == .closed)
        #expect(s.read(max: 10) == .send(3))
        #expect(s.read(max: 10) == .end)
    }

    @Test func finishMayUseTheSlackForItsLastMessage() {
        var s = StreamState(capacity: 2)
        #expect(s.write([1, 2]) == .none)
        _ = s.finish(Array(repeating: 9, count: 100))
        #expect(s.pendingCount == 102)
        var big = StreamState(capacity: 2)
        _ = big.finish(Array(repeating: 9, count: StreamState.finalSlack + 10))
        #expect(big.pendingCount == 0)
    }

    @Test func abortFailsTheNextReadAndResumes() {
        var s = StreamState(capacity: 10)
        #expect(s.read(max: 10) == .suspend)
        #expect(s.abort() == .resume)
        #expect(s.read(max: 10) == .fail)
        #expect(s.abort() == .closed)
    }

    @Test func endedStreamTakesNoMore() {
        var s = StreamState(capacity: 10)
        s.ended()
        #expect(s.write([1]) == .closed)
        #expect(s.finish() == .closed)
        #expect(s.read(max: 1) == .fail)
    }

    @Test func longStreamsCompactTheirBuffer() {
        var s = StreamState(capacity: 1000)
        for _ in 0..<10_000 {
            #expect(s.write(Array(repeating: 7, count: 100)) == .none)
            #expect(s.read(max: 100) == .send(100))
        }
        #expect(s.buffered.count < 20_000)
    }
}

@Suite struct HeaderNameTests {
    @Test func comparesIgnoringASCIICaseOnly() {
        #expect(headerNamesEqual("Content-Length", "content-length"))
        #expect(headerNamesEqual("X-CLIENT-ID", "x-client-id"))
        #expect(!headerNamesEqual("Content-Length", "Content-Lengt"))
        #expect(!headerNamesEqual("a-b", "a\rb"))  // '-' | 0x20 == '\r' | 0x20, yet not letters
        #expect(!headerNamesEqual("Accept", "Accepts"))
    }
}

@Suite struct LargeMessageTests {
    @Test func anEmptyBufferTakesAMessageLargerThanItsCapacity() {
        var s = StreamState(capacity: 4)
        #expect(s.write(Array(repeating: 1, count: 10)) == .none)
        #expect(s.write([2]) == .overflow)  // but only when empty
        #expect(s.read(max: 100) == .send(10))
        #expect(s.write([2]) == .none)
    }
}

/// A stream whose socket the server took over: its owner sends the bytes itself.
@Suite struct HandedOffStreamStateTests {
    @Test func aHandedOffStreamIsNeverToBeResumed() {
        var s = StreamState(capacity: 100, initial: Array("hello".utf8))
        #expect(s.read(max: 10) == .send(5))
        #expect(s.read(max: 10) == .suspend)
        s.handedOff()
        #expect(!s.suspended)
        #expect(s.write([1, 2, 3]) == .none)
    }

    @Test func partlySentBytesWaitAndTheBufferGoesOnceAllAreSent() {
        var s = StreamState(capacity: 100)
        #expect(s.write([1, 2, 3, 4]) == .none)
        s.sent(3)
        #expect(Array(s.unsent) == [4])
        #expect(s.write([5]) == .none)
        #expect(Array(s.unsent) == [4, 5])
        s.sent(2)
        #expect(s.pendingCount == 0 && s.buffered.capacity == 0)
    }

    @Test func doneOnceFinishedAndDrainedOrAtOnceWhenAborted() {
        var s = StreamState(capacity: 100)
        #expect(!s.isDone)
        _ = s.finish([9, 9])
        #expect(!s.isDone)  // the last bytes still wait
        s.sent(2)
        #expect(s.isDone)

        var t = StreamState(capacity: 100)
        _ = t.write([1])
        _ = t.abort()
        #expect(t.isDone)  // what waits is dropped
    }
}
