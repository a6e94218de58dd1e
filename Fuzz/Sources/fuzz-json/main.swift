import DocumentStore
import Foundation
import FuzzSupport

// The JSON parser: never crashes, reports errors at an offset within the input, and
// reads its own serialization back to the same value and the same text. With
// `--print DIR...` it prints its verdict on each file instead, for Fuzz/json_oracle.py
// to compare with Python's `json`.

func test(_ input: [UInt8]) {
    let value: JSON
    do {
        value = try JSONParser.parse(input)
    } catch {
        Fuzzer.check(
            (0...input.count).contains(error.offset), "error offset \(error.offset) outside the input", input: input)
        return
    }
    let text = value.serializedBytes
    guard let again = try? JSONParser.parse(text) else {
        Fuzzer.check(false, "the serialization \(value.serialized) does not parse", input: input)
        return
    }
    Fuzzer.check(again == value, "the serialization reads back as \(again.serialized)", input: input)
    Fuzzer.check(again.serializedBytes == text, "serializing twice gives \(again.serialized)", input: input)
}

/// One line per file: `name<TAB>ok<TAB>serialization` or `name<TAB>reject<TAB>offset`.
/// Control characters are escaped in a serialization, so a line never breaks.
func printVerdicts(_ directories: ArraySlice<String>) {
    var out = FileHandle.standardOutput
    for directory in directories {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() {
            guard let data = FileManager.default.contents(atPath: directory + "/" + name) else { continue }
            do {
                let value = try JSONParser.parse([UInt8](data))
                print("\(name)\tok\t\(value.serialized)", to: &out)
            } catch {
                print("\(name)\treject\t\(error.offset)", to: &out)
            }
        }
    }
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) { write(Data(string.utf8)) }
}

if CommandLine.arguments.dropFirst().first == "--print" {
    printVerdicts(CommandLine.arguments.dropFirst(2))
} else {
    Fuzzer.run(test)
}
