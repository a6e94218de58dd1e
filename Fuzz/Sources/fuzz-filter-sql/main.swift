import Dispatch
import DocumentStore
import Foundation
import FuzzSupport
import Logging
import SQLiteStore

// Filter → SQL, executed: each filter built from the input runs as SQL against a real
// SQLite store, and must select exactly the documents the in-memory matcher (the one
// filtered streams use) selects, with no SQL error.

func openStore() -> SQLiteStore {
    // One folder, emptied at each start, so that runs leave one store behind, not many.
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("backbone-sse-fuzz-filter-sql")
    try? FileManager.default.removeItem(at: directory)
    do {
        let store = try SQLiteStore(path: directory.appendingPathComponent("fuzz.sqlite").path, logger: Logger(label: "fuzz"))
        try store.prepare([Documents.layout])
        for document in Documents.all {
            let done = DispatchSemaphore(value: 0)
            let request = WriteRequest(collection: "docs", id: document["id"]!.stringValue!, origin: nil) { _ in
                .insert(document, version: 1)
            }
            store.write(request) { result in
                if case .failure(let error) = result { fatalError("cannot insert: \(error)") }
                done.signal()
            }
            done.wait()
        }
        return store
    } catch {
        fatalError("cannot open the store: \(error)")
    }
}

let store = openStore()

func ids(_ documents: [JSONObject]) -> [String] { documents.map { $0["id"]!.stringValue! } }

func test(_ input: [UInt8]) {
    var builder = FilterBuilder(input)
    let filter = builder.filter()
    let expected = ids(Documents.all.filter { filter.matches($0) })
    do {
        let found = try store.list("docs", query: ListQuery(filter: filter)).documents.map(\.id)
        Fuzzer.check(found == expected, "SQL selects \(found), the matcher \(expected) for \(filter)", input: input)
    } catch {
        Fuzzer.check(false, "\(filter): \(error)", input: input)
    }
}

Fuzzer.run(test)
