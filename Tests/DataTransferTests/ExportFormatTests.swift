import DocumentStore
import Testing

@testable import DataTransfer

/// The export file's lines: the header and the document lines, written and read back.
@Suite struct ExportFormatTests {
    @Test func theHeaderReadsBackAsWritten() throws {
        let header = ExportHeader(epoch: "e7f3a1", head: 1041, collections: JSONObject([("todos", .object(JSONObject()))]))
        let line = header.line
        #expect(line.last == UInt8(ascii: "\n"))
        #expect(String(decoding: line, as: UTF8.self).hasPrefix(#"{"format":"backbone-sse-export","version":1,"#))
        #expect(try ExportHeader.parse(Array(line.dropLast())).get() == header)
    }

    @Test func aFileThatIsNoExportIsTold() {
        for (text, expected) in [
            ("[1]", "not a backbone-sse export: the first line is not a JSON object"),
            (#"{"collection":"todos","doc":{}}"#, #"not a backbone-sse export: the first line has no "format": "backbone-sse-export""#),
            (#"{"format":"backbone-sse-export","version":2}"#, "export format version 2 is not supported (1 is)"),
        ] {
            guard case .failure(let error) = ExportHeader.parse(Array(text.utf8)) else {
                Issue.record("\(text) parsed")
                continue
            }
            #expect(error.message == expected)
        }
    }

    @Test func aDocumentLineCarriesTheStoredTextAsItIs() throws {
        var out: [UInt8] = []
        let json = #"{"id":"a1","title":"Milk","_v":3}"#
        ExportLine.write(prefix: ExportLine.prefix("todos"), json: json, into: &out)
        #expect(String(decoding: out, as: UTF8.self) == #"{"collection":"todos","doc":{"id":"a1","title":"Milk","_v":3}}"# + "\n")
        let parsed = try ExportLine.parse(Array(out.dropLast())).get()
        #expect(parsed.collection == "todos")
        #expect(JSON.object(parsed.document).serialized == json)
    }

    @Test func aBadDocumentLineSaysWhatIsWrong() {
        for (text, expected) in [
            ("{", "not JSON"),
            ("3", "not a JSON object"),
            (#"{"collection":"todos","doc":{},"x":1}"#, #"unknown member "x""#),
            (#"{"collection":1,"doc":{}}"#, #""collection" must be a string"#),
            (#"{"collection":"todos","doc":[]}"#, #""doc" must be an object"#),
        ] {
            guard case .failure(let error) = ExportLine.parse(Array(text.utf8)) else {
                Issue.record("\(text) parsed")
                continue
            }
            #expect(error.message.hasPrefix(expected), "\(text): \(error.message)")
        }
    }
}
