import DocumentStore
import HTTPServer

/// Opening a stream: the subscription from the request, the start position (fixed
/// before the headers go out), the `hello` (and `reset` when a cursor cannot resume).
struct StreamHandlers {
    let hub: StreamHub

    /// A GET whose `Accept` names `text/event-stream`, unless with `q=0` ("not
    /// acceptable", RFC 9110 §12.4.2).
    static func wantsStream(_ request: HTTPRequest) -> Bool {
        guard request.method == "GET", let accept = request.header("Accept") else { return false }
        return AcceptHeader.lists("text/event-stream", in: accept)
    }

    func open(_ request: HTTPRequest, _ subscription: Subscription, since: String?) throws(APIError) -> HTTPResponse {
        guard hub.reserve() else {
            var error = APIError(503, "too_many_streams", "this server holds as many streams as it may; retry shortly")
            error.headers = [("Retry-After", "5")]
            throw error
        }
        do {
            return try start(request, subscription, since: since)
        } catch {
            hub.release()
            throw error
        }
    }

    private func start(_ request: HTTPRequest, _ subscription: Subscription, since: String?) throws(APIError) -> HTTPResponse {
        let bounds: LogBounds
        do { bounds = try hub.store.logBounds() } catch { throw APIError(ServiceError(error)) }
        let head = ChangeCursor(epoch: hub.epoch, sequence: bounds.newest)
        var start = bounds.newest
        var reset: String?
        // Last-Event-ID wins: EventSource sends it on every reconnect, while the URL
        // keeps its first `since`.
        let lastEventID = request.header("Last-Event-ID").flatMap { $0.isEmpty ? nil : $0 }
        if let text = lastEventID ?? since, !text.isEmpty {
            if let cursor = ChangeCursor(text) {
                if cursor.epoch != hub.epoch {
                    reset = "epoch"
                } else if !bounds.canResume(after: cursor.sequence) {
                    reset = "expired"
                } else {
                    start = cursor.sequence
                }
            } else if lastEventID == nil {
                throw APIError.badRequest("since must be a cursor like \(head) (from X-Stream-Cursor or an event id)", code: "bad_cursor")
            } else {
                reset = "epoch"
            }
        }
        var initial = SSEFrame.retry(milliseconds: 2000 + Int.random(in: 0..<2000))
        initial += SSEFrame.hello(
            cursor: ChangeCursor(epoch: hub.epoch, sequence: start), heartbeatMilliseconds: hub.options.heartbeat * 1000)
        if let reset { initial += SSEFrame.reset(reason: reset, head: head) }
        let stream = ResponseStream(capacity: hub.options.bufferBytes, initial: initial)
        hub.subscribe(subscription, stream: stream, start: start)
        return HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", "text/event-stream; charset=utf-8"),
                ("Cache-Control", "no-cache, no-transform"),
                ("X-Accel-Buffering", "no"),
                // A stream ends with `bye` or `reset` and its client then reconnects: the
                // connection is closed rather than kept idle (with whatever an overflowed
                // reader left unread in the socket buffers).
                ("Connection", "close"),
            ], stream: stream)
    }
}
