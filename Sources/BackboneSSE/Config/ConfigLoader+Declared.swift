import DocumentStore
import Foundation

extension ConfigLoader {
    /// The `collections` mapping of a config file as written (YAML turned into JSON, in
    /// the file's order), for the header of an export; the file must also load.
    public static func declaredCollections(path: String) throws(ConfigError) -> JSONObject {
        _ = try load(path: path)
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, key: "", message: "cannot read the file")
        }
        let root: JSON?
        if path.hasSuffix(".json") {
            root = try? JSONParser.parse(text)
        } else {
            root = try? YAMLConversion.parse(text)
        }
        guard case .object(let collections)? = root?.objectValue?["collections"] else {
            throw ConfigError(file: path, key: "collections", message: "must be a mapping of collection names to their settings")
        }
        return collections
    }
}
