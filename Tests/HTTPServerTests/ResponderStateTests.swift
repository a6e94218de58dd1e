@testable import HTTPServer
import Testing

/// The answer-to-one-request state machine, without I/O. (A handler returning twice
/// traps by design; not tested here.)
@Suite struct ResponderStateTests {
    private static func response(_ status: Int) -> HTTPResponse { HTTPResponse(status: status) }

    private static func queued(_ action: ResponderState.HandlerReturnedAction) -> Int? {
        if case .queue(let response) = action { return response.status }
        return nil
    }

    @Test func anAnswerBeforeTheHandlerReturnsIsQueuedAtOnce() {
        var s = ResponderState()
        #expect(s.send(Self.response(201)) == .none)
        #expect(Self.queued(s.handlerReturned()) == 201)
        #expect(s.takeResponse() == nil)  // already delivered
    }

    @Test func noAnswerYetSuspendsAndTheAnswerResumes() {
        var s = ResponderState()
        guard case .suspend = s.handlerReturned() else {
            Issue.record("expected a suspend")
            return
        }
        #expect(s.send(Self.response(200)) == .resume)
        #expect(s.takeResponse()?.status == 200)
        #expect(s.takeResponse() == nil)  // handed over once
    }

    @Test func aSecondAnswerWhileHandlingIsIgnored() {
        var s = ResponderState()
        #expect(s.send(Self.response(200)) == .none)
        #expect(s.send(Self.response(500)) == .none)
        #expect(Self.queued(s.handlerReturned()) == 200)
    }

    @Test func aSecondAnswerAfterTheSuspendDoesNotResumeTwice() {
        var s = ResponderState()
        _ = s.handlerReturned()
        #expect(s.send(Self.response(200)) == .resume)
        #expect(s.send(Self.response(500)) == .none)  // resuming twice is undefined behaviour
        #expect(s.takeResponse()?.status == 200)
    }

    @Test func anAnswerAfterDeliveryChangesNothing() {
        var s = ResponderState()
        _ = s.send(Self.response(200))
        _ = s.handlerReturned()
        #expect(s.send(Self.response(500)) == .none)
        #expect(s.takeResponse() == nil)
    }

    @Test func aRunWithoutAnAnswerKeepsWaiting() {
        var s = ResponderState()
        _ = s.handlerReturned()
        #expect(s.takeResponse() == nil)  // not answered yet: still suspended
        #expect(s.send(Self.response(204)) == .resume)
        #expect(s.takeResponse()?.status == 204)
    }
}
