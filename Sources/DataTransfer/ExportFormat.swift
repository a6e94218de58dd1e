import DocumentStore

/// The export file: JSON Lines. One header line,
/// `{"format":"backbone-sse-export","version":1,"epoch":"…","head":1041,"collections":{…}}`
/// (the store's epoch and change-log head the documents reflect, and the config's
/// collections as declared), then one line per document,
/// `{"collection":"todos","doc":{"id":"…","_v":3,"created":"…","updated":"…",…}}`: the
/// document as stored, with its id, `_v` and timestamps.
public struct ExportHeader: Sendable, Equatable {
    public static let format = "backbone-sse-export"
    public static let version: Int64 = 1

    public let epoch: String
    public let head: Int64
    public let collections: JSONObject

    public init(epoch: String, head: Int64, collections: JSONObject) {
        self.epoch = epoch
        self.head = head
        self.collections = collections
    }

    /// The header line, newline included.
    public var line: [UInt8] {
        var out = JSON.object(
            JSONObject([
                ("format", .string(Self.format)), ("version", .int(Self.version)), ("epoch", .string(epoch)), ("head", .int(head)),
                ("collections", .object(collections)),
            ])
        ).serializedBytes
        out.append(UInt8(ascii: "\n"))
        return out
    }

    /// The header of an export; the message says what is wrong otherwise.
    public static func parse(_ line: [UInt8]) -> Result<ExportHeader, ExportLineError> {
        guard case .object(let object)? = try? JSONParser.parse(line) else {
            return .failure(ExportLineError("not a backbone-sse export: the first line is not a JSON object"))
        }
        guard object["format"]?.stringValue == format else {
            return .failure(ExportLineError("not a backbone-sse export: the first line has no \"format\": \"\(format)\""))
        }
        guard case .int(let version)? = object["version"], version == Self.version else {
            return .failure(ExportLineError("export format version \(object["version"]?.serialized ?? "none") is not supported (1 is)"))
        }
        guard let epoch = object["epoch"]?.stringValue, case .int(let head)? = object["head"],
            case .object(let collections)? = object["collections"]
        else {
            return .failure(ExportLineError("the header needs \"epoch\", \"head\" and \"collections\""))
        }
        return .success(ExportHeader(epoch: epoch, head: head, collections: collections))
    }
}

/// What is wrong with one line of an export.
public struct ExportLineError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}

/// One document line.
public enum ExportLine {
    /// The line's start for documents of `collection`: `{"collection":"todos","doc":`.
    public static func prefix(_ collection: String) -> [UInt8] {
        var out = Array(#"{"collection":"#.utf8)
        JSON.writeString(collection, into: &out)
        out.append(contentsOf: #","doc":"#.utf8)
        return out
    }

    /// Appends the line of a stored document (its JSON text as stored), newline included.
    public static func write(prefix: [UInt8], json: String, into out: inout [UInt8]) {
        out.append(contentsOf: prefix)
        out.append(contentsOf: json.utf8)
        out.append(contentsOf: "}\n".utf8)
    }

    /// The collection and the document of a line.
    public static func parse(_ line: [UInt8]) -> Result<(collection: String, document: JSONObject), ExportLineError> {
        let value: JSON
        do {
            value = try JSONParser.parse(line)
        } catch {
            return .failure(ExportLineError("not JSON: \(error)"))
        }
        guard case .object(let object) = value else { return .failure(ExportLineError("not a JSON object")) }
        for key in object.keys where key != "collection" && key != "doc" {
            return .failure(ExportLineError("unknown member \"\(key)\" (a line has \"collection\" and \"doc\")"))
        }
        guard let collection = object["collection"]?.stringValue else {
            return .failure(ExportLineError("\"collection\" must be a string"))
        }
        guard case .object(let document)? = object["doc"] else { return .failure(ExportLineError("\"doc\" must be an object")) }
        return .success((collection, document))
    }
}
