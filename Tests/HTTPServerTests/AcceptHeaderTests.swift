import Testing

@testable import HTTPServer

@Suite struct AcceptHeaderTests {
    @Test(arguments: [
        ("text/event-stream", true),
        ("Text/Event-Stream; charset=utf-8", true),
        ("application/json, text/event-stream;q=0.1", true),
        ("application/json ,\ttext/event-stream ; Q=0.5", true),
        ("text/event-stream;q=abc", true),  // a weight that is not a number: as if absent
        ("text/event-stream;q=0, application/json", false),
        ("text/event-stream; q=0.000", false),
        ("application/json, text/javascript, */*; q=0.01", false),
        ("*/*", false), ("text/*", false), ("text/event-streams", false), ("xtext/event-stream", false),
        ("", false), (",,;", false), ("text/event-stream-x, text/event-strea", false),
    ])
    func listsTheStreamTypeWithAWeightAboveZero(accept: String, listed: Bool) {
        #expect(AcceptHeader.lists("text/event-stream", in: accept) == listed)
    }
}
