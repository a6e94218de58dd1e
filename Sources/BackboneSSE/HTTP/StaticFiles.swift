import Foundation
import HTTPServer

/// Files served from folders given with `--static DIR` or `--static /prefix=DIR`, for
/// paths that are not collections. A folder's path serves its `index.html`. The real
/// path of every file is checked to lie inside its folder, so neither `..` nor a
/// symbolic link can reach anything outside.
public struct StaticFiles: Sendable {
    public struct Root: Sendable {
        public let prefix: String
        public let directory: String

        /// `DIR` or `/prefix=DIR`.
        public init?(_ spec: String) {
            var prefix = "/"
            var directory = spec
            if spec.hasPrefix("/"), let eq = spec.firstIndex(of: "=") {
                prefix = String(spec[..<eq])
                directory = String(spec[spec.index(after: eq)...])
            }
            if !prefix.hasSuffix("/") { prefix += "/" }
            guard let real = realpath(directory, nil) else { return nil }
            defer { free(real) }
            self.prefix = prefix
            self.directory = String(cString: real)
        }
    }

    public let roots: [Root]

    public init(roots: [Root]) {
        self.roots = roots
    }

    static let contentTypes: [String: String] = [
        "html": "text/html; charset=utf-8", "htm": "text/html; charset=utf-8",
        "js": "text/javascript; charset=utf-8", "mjs": "text/javascript; charset=utf-8",
        "css": "text/css; charset=utf-8", "json": "application/json; charset=utf-8",
        "map": "application/json; charset=utf-8", "txt": "text/plain; charset=utf-8",
        "yaml": "application/yaml; charset=utf-8", "yml": "application/yaml; charset=utf-8",
        "svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
        "gif": "image/gif", "ico": "image/x-icon", "webp": "image/webp", "woff": "font/woff",
        "woff2": "font/woff2", "wasm": "application/wasm", "xml": "application/xml",
    ]

    static func contentType(_ path: String) -> String {
        let ext = (path as NSString).pathExtension.lowercased()
        return contentTypes[ext] ?? "application/octet-stream"
    }

    /// The file for decoded path segments, or nil.
    func response(for segments: [String], trailingSlash: Bool) -> HTTPResponse? {
        let urlPath = "/" + segments.joined(separator: "/") + (trailingSlash && !segments.isEmpty ? "/" : "")
        for root in roots where urlPath.hasPrefix(root.prefix) || urlPath + "/" == root.prefix {
            let prefixCount = root.prefix.split(separator: "/").count
            let rest = Array(segments.dropFirst(prefixCount))
            guard rest.allSatisfy({ !$0.isEmpty && $0 != "." && $0 != ".." && !$0.contains("/") && !$0.contains("\0") }) else {
                return nil
            }
            var candidate = ([root.directory] + rest).joined(separator: "/")
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory) else { continue }
            if isDirectory.boolValue {
                if !trailingSlash && !rest.isEmpty {
                    // Relative links in the index need the slash.
                    return HTTPResponse(status: 301, headers: [("Location", urlPath + "/")])
                }
                candidate += "/index.html"
            }
            guard let real = realpath(candidate, nil) else { continue }
            let resolved = String(cString: real)
            free(real)
            guard resolved.hasPrefix(root.directory + "/"),
                let data = FileManager.default.contents(atPath: resolved)
            else { continue }
            return HTTPResponse(
                status: 200,
                headers: [("Content-Type", Self.contentType(resolved)), ("Cache-Control", "no-cache")],
                body: [UInt8](data))
        }
        return nil
    }
}
