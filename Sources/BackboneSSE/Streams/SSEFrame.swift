import DocumentStore

/// Server-Sent Events framing: `id:`, `event:` and `data:` lines, a blank line after.
/// Data is always one line of JSON (JSON text never holds a raw newline).
enum SSEFrame {
    static func event(_ name: String, id: String? = nil, data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + 64)
        if let id { out.append(contentsOf: "id: \(id)\n".utf8) }
        out.append(contentsOf: "event: \(name)\ndata: ".utf8)
        out.append(contentsOf: data)
        out.append(contentsOf: "\n\n".utf8)
        return out
    }

    static func retry(milliseconds: Int) -> [UInt8] {
        Array("retry: \(milliseconds)\n\n".utf8)
    }

    static func hello(cursor: ChangeCursor, heartbeatMilliseconds: Int) -> [UInt8] {
        event("hello", id: cursor.description, data: Array(#"{"cursor":"\#(cursor)","heartbeat":\#(heartbeatMilliseconds)}"#.utf8))
    }

    /// `reason`: expired, epoch or overflow. The id is the current head, where the
    /// client resumes after refetching.
    static func reset(reason: String, head: ChangeCursor) -> [UInt8] {
        event("reset", id: head.description, data: Array(#"{"reason":"\#(reason)","cursor":"\#(head)"}"#.utf8))
    }

    static let ping = event("ping", data: Array("{}".utf8))
    /// The last frame of a stream whose token has expired (DESIGN.md §5).
    static let expired = event("expired", data: Array(#"{"reason":"token_expired"}"#.utf8))
    static let bye = event("bye", data: Array("{}".utf8))
}

/// The frames one change can become, each built at most once however many
/// subscribers receive it.
final class ChangeFrames {
    let change: Change
    let id: String
    private var plain: [UInt8]?
    private var enterFrame: [UInt8]?
    private var leaveFrame: [UInt8]?
    private var parsedNew: JSONObject??
    private var parsedOld: JSONObject??

    init(_ change: Change, epoch: String) {
        self.change = change
        self.id = ChangeCursor(epoch: epoch, sequence: change.sequence).description
    }

    var newDocument: JSONObject? {
        if let parsedNew { return parsedNew }
        let value = change.document.flatMap { try? JSONParser.parse($0).objectValue }
        parsedNew = .some(value)
        return value
    }

    var oldDocument: JSONObject? {
        if let parsedOld { return parsedOld }
        let value = change.previous.flatMap { try? JSONParser.parse($0).objectValue }
        parsedOld = .some(value)
        return value
    }

    /// `create`, `update` or `delete`, as every unfiltered subscriber gets it.
    var operationFrame: [UInt8] {
        if let plain { return plain }
        let frame = SSEFrame.event(change.operation.rawValue, id: id, data: envelope(document: change.document))
        plain = frame
        return frame
    }

    var enter: [UInt8] {
        if let enterFrame { return enterFrame }
        let frame = SSEFrame.event("enter", id: id, data: envelope(document: change.document))
        enterFrame = frame
        return frame
    }

    var leave: [UInt8] {
        if let leaveFrame { return leaveFrame }
        let frame = SSEFrame.event("leave", id: id, data: envelope(document: change.document ?? change.previous))
        leaveFrame = frame
        return frame
    }

    /// `{"collection","id","v","doc"?,"origin"?}`.
    private func envelope(document: String?) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity((document?.utf8.count ?? 0) + 96)
        out.append(contentsOf: #"{"collection":"#.utf8)
        JSON.writeString(change.collection, into: &out)
        out.append(contentsOf: #","id":"#.utf8)
        JSON.writeString(change.id, into: &out)
        out.append(contentsOf: #","v":\#(change.version)"#.utf8)
        if let document {
            out.append(contentsOf: #","doc":"#.utf8)
            out.append(contentsOf: document.utf8)
        }
        if let origin = change.origin {
            out.append(contentsOf: #","origin":"#.utf8)
            JSON.writeString(origin, into: &out)
        }
        out.append(UInt8(ascii: "}"))
        return out
    }
}
