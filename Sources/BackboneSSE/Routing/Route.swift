import HTTPServer

/// Hands an answer back, now or later, from any thread.
public typealias Respond = @Sendable (consuming HTTPResponse) -> Void

/// One registration of the route table: a method, a path template and the handler that
/// answers it. Dispatch, `Allow` and 405, the route labels of `/metrics`, the names a
/// collection may not take and the openapi.yaml test all read the table.
public struct Route: Sendable {
    /// Answers a request whose path matched `template` and whose method is `method`
    /// (`HEAD` goes to the `GET` handler). A thrown error becomes its JSON answer.
    typealias Handler = @Sendable (_ request: RouteRequest, _ respond: @escaping Respond) throws -> Void

    public let method: String
    public let path: String
    let template: RouteTemplate
    let handler: Handler

    init(_ method: String, _ path: String, _ handler: @escaping Handler) {
        self.method = method
        self.path = path
        self.template = RouteTemplate(path)
        self.handler = handler
    }
}

/// A path template: literal segments, `{collection}` (a declared collection) and `{id}`
/// (a document id).
struct RouteTemplate: Sendable, Equatable {
    enum Segment: Sendable, Equatable {
        case literal(String)
        case collection
        case id
    }

    let segments: [Segment]

    init(_ path: String) {
        segments = path.split(separator: "/").map { part in
            switch part {
            case "{collection}": .collection
            case "{id}": .id
            default: .literal(String(part))
            }
        }
    }

    /// The literal first segment: a name no collection may take.
    var reservedName: String? {
        if case .literal(let name)? = segments.first { return name }
        return nil
    }
}
