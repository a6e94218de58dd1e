import Testing

@testable import HTTPServer

/// Credentials in a URL never reach the log.
@Suite struct RedactedTargetTests {
    @Test(arguments: [
        ("/todos", "/todos"),
        ("/todos?done=false&limit=5", "/todos?done=false&limit=5"),
        ("/todos?access_token=eyJ.abc.def", "/todos?access_token=REDACTED"),
        ("/events?collections=a&ticket=t1.sig&since=x", "/events?collections=a&ticket=REDACTED&since=x"),
        ("/todos?Access_Token=abc&token=def&jwt=g", "/todos?Access_Token=REDACTED&token=REDACTED&jwt=REDACTED"),
        ("/todos?ticket%5B%5D=abc", "/todos?ticket%5B%5D=REDACTED"),
        ("/todos?title=token", "/todos?title=token"),
        // Percent-encoded names are the same names to the server's query parser.
        ("/todos?t%69cket=abc&%54OKEN=d", "/todos?t%69cket=REDACTED&%54OKEN=REDACTED"),
    ])
    func redacts(target: String, logged: String) {
        #expect(RedactedTarget.of(target) == logged)
    }
}
