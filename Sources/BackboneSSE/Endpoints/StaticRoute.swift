import HTTPServer

/// Paths that match no route: files from `--static` folders, else 404.
enum StaticRoute {
    static func answer(_ request: RouteRequest, _ respond: @escaping Respond) throws {
        let segments = request.target.segments
        if request.method == "GET" || request.method == "HEAD",
            let response = request.app.staticFiles.response(for: segments, trailingSlash: request.target.path.hasSuffix("/"))
        {
            return respond(response)
        }
        if segments.count <= 2, let first = segments.first, ConfigLoader.isValidName(first) {
            throw APIError.notFound("no collection named \(first)")
        }
        throw APIError.notFound("nothing at \(request.target.path)")
    }
}
