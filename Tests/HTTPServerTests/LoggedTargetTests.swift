import Testing

@testable import HTTPServer

@Suite struct LoggedTargetTests {
    @Test func credentialsInTheQueryAreNeverLogged() {
        #expect(LoggedTarget.redacting("/todos?ticket=abc.def&since=e1-4") == "/todos?ticket=***&since=e1-4")
        #expect(LoggedTarget.redacting("/events?collections=a&Access_Token=eyJ") == "/events?collections=a&Access_Token=***")
        #expect(LoggedTarget.redacting("/todos?a=1&token=x&token=y") == "/todos?a=1&token=***&token=***")
    }

    @Test func everythingElseIsLoggedAsSent() {
        for target in ["/todos", "/todos?", "/todos?tickets=1", "/todos?where%5Bticket%5D=1", "/todos?a&b=", "/t?x=ticket=1"] {
            #expect(LoggedTarget.redacting(target) == target)
        }
    }
}
