/// The routes the server answers, in one table: the router matches against it, `Allow`
/// headers are made from it, and a test checks that openapi.yaml lists the same.
public enum Routes {
    public struct Route: Sendable, Hashable {
        public let method: String
        public let path: String
    }

    public static let table: [Route] = [
        Route(method: "GET", path: "/healthz"),
        Route(method: "GET", path: "/metrics"),
        Route(method: "GET", path: "/openapi.yaml"),
        Route(method: "GET", path: "/events"),
        Route(method: "GET", path: "/backbone-sse.js"),
        Route(method: "GET", path: "/{collection}"),
        Route(method: "POST", path: "/{collection}"),
        Route(method: "GET", path: "/{collection}/{id}"),
        Route(method: "PUT", path: "/{collection}/{id}"),
        Route(method: "PATCH", path: "/{collection}/{id}"),
        Route(method: "DELETE", path: "/{collection}/{id}"),
    ]

    /// The `Allow` header of a path template: its methods, plus HEAD with GET, and OPTIONS.
    static func allow(_ path: String) -> String {
        var methods = table.filter { $0.path == path }.map(\.method)
        if methods.contains("GET") { methods.insert("HEAD", at: methods.firstIndex(of: "GET")! + 1) }
        methods.append("OPTIONS")
        return methods.joined(separator: ", ")
    }

    static func allows(_ method: String, _ path: String) -> Bool {
        let m = method == "HEAD" ? "GET" : method
        return table.contains { $0.path == path && $0.method == m }
    }
}
