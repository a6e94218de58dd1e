import BackboneSSE
import DocumentStore
import Foundation
import Logging

/// `--log-format json`: one JSON object per line on standard error, for log shippers.
/// `time` (UTC, to the millisecond), `level`, `message`, `source`, then the metadata
/// under its own names (`request.id`, `http.method`, `http.route`, `http.status`,
/// `http.duration_us`, `client.address`, `client.id`, …). The status and the duration are
/// numbers; every other value a string (or an object or array, when it is one).
struct JSONLogHandler: LogHandler {
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// Metadata whose values are whole numbers.
    static let numbers: Set<String> = ["http.status", "http.duration_us"]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { _, new in new } }
        if let own = event.metadata { all.merge(own) { _, new in new } }
        FileHandle.standardError.write(Data(Self.line(event, metadata: all).utf8))
    }

    /// The line of `event` with `metadata`, newline included.
    static func line(_ event: LogEvent, metadata: Logger.Metadata, at date: Date = Date()) -> String {
        var object = JSONObject()
        object["time"] = .string(DateTime.string(date))
        object["level"] = .string(event.level.rawValue)
        object["message"] = .string(event.message.description)
        object["source"] = .string(event.source)
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where object[key] == nil {
            if numbers.contains(key), case .string(let text) = value, let number = Int64(text) {
                object[key] = .int(number)
            } else {
                object[key] = json(value)
            }
        }
        return String(decoding: JSON.object(object).serializedBytes, as: UTF8.self) + "\n"
    }

    static func json(_ value: Logger.Metadata.Value) -> JSON {
        switch value {
        case .string(let text): .string(text)
        case .stringConvertible(let convertible): .string(convertible.description)
        case .array(let items): .array(items.map(json))
        case .dictionary(let members): .object(JSONObject(members.sorted { $0.key < $1.key }.map { ($0.key, json($0.value)) }))
        }
    }
}
