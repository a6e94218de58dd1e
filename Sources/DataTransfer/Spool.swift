import DocumentStore
import Foundation
import Glibc

/// The documents of an import that passed every check, held in a scratch file between
/// the check of the whole input and the writes (so that nothing is written when any
/// line fails, and stdin need not be read twice). One line per document:
/// `collection TAB line TAB _v TAB id TAB json` (ids and collection names hold no tab;
/// the JSON text, as the server writes it, no raw tab or newline).
final class Spool {
    let path: String
    private let fd: Int32
    private let output: ByteOutput
    private(set) var count = 0

    init() throws {
        let directory = ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp"
        var template = Array("\(directory)/backbone-sse-import.XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw ByteOutput.WriteError(reason: "cannot make a scratch file in \(directory): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        path = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        output = ByteOutput(fd: fd)
    }

    deinit {
        close(fd)
        unlink(path)
    }

    func append(collection: String, line: Int, document: StoredDocument) throws {
        try output.append { out in
            out.append(contentsOf: collection.utf8)
            out.append(0x09)
            out.append(contentsOf: String(line).utf8)
            out.append(0x09)
            out.append(contentsOf: String(document.version).utf8)
            out.append(0x09)
            out.append(contentsOf: document.id.utf8)
            out.append(0x09)
            out.append(contentsOf: document.json.utf8)
            out.append(0x0A)
        }
        count += 1
    }

    /// Every spooled document, in the order spooled.
    func forEach(_ body: (_ collection: String, _ line: Int, _ document: StoredDocument) throws -> Void) throws {
        try output.flush()
        guard lseek(fd, 0, SEEK_SET) == 0 else { throw LineReader.ReadError(reason: String(cString: strerror(errno))) }
        try LineReader(fd: fd).forEach { _, bytes, _ in
            var fields: [ArraySlice<UInt8>] = []
            var start = 0
            for i in bytes.indices where bytes[i] == 0x09 && fields.count < 4 {
                fields.append(bytes[start..<i])
                start = i + 1
            }
            fields.append(bytes[start...])
            guard fields.count == 5, let line = Int(String(decoding: fields[1], as: UTF8.self)),
                let version = Int64(String(decoding: fields[2], as: UTF8.self))
            else { throw LineReader.ReadError(reason: "the scratch file \(path) is damaged") }
            let document = StoredDocument(
                id: String(decoding: fields[3], as: UTF8.self), version: version, json: String(decoding: fields[4], as: UTF8.self))
            try body(String(decoding: fields[0], as: UTF8.self), line, document)
        }
    }

    /// The line of a spooled document (a failure's, to report it).
    func line(of id: String, in collection: String) throws -> Int? {
        var found: Int?
        try forEach { c, line, document in
            if found == nil, c == collection, document.id == id { found = line }
        }
        return found
    }
}
