import DocumentStore
import Foundation
import Testing

/// The RFC 8259 edge cases of Fuzz/corpus/json/ (also the fuzzer's seeds), each accepted
/// or refused as Fuzz/corpus/json-expected.tsv says, so that `swift test` holds the
/// parser to them without the fuzzer.
@Suite struct JSONCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fuzz/corpus")

    /// (file name, accepted?) for every line of the table.
    static let expectations: [(name: String, accept: Bool)] = {
        let table = (try? String(contentsOf: corpus.appendingPathComponent("json-expected.tsv"), encoding: .utf8)) ?? ""
        return table.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { line in
            let fields = line.split(separator: "\t")
            return (String(fields[0]), fields.count > 1 && fields[1] == "accept")
        }
    }()

    @Test func theTableCoversEveryCorpusFile() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus.appendingPathComponent("json").path)
        #expect(files.count >= 80)
        #expect(Set(files) == Set(Self.expectations.map(\.name)))
    }

    @Test(arguments: expectations.map(\.name))
    func parsesAsTheTableSays(_ name: String) throws {
        let accept = try #require(Self.expectations.first { $0.name == name }).accept
        let bytes = try [UInt8](Data(contentsOf: Self.corpus.appendingPathComponent("json/\(name)")))
        do {
            let value = try JSONParser.parse(bytes)
            #expect(accept, "accepted, as \(value.serialized)")
            #expect(try JSONParser.parse(value.serializedBytes) == value)
        } catch {
            #expect(!accept, "refused: \(error)")
            #expect(error.offset >= 0 && error.offset <= bytes.count)
        }
    }
}
