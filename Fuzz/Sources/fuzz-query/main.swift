@testable import BackboneSSE
import DocumentStore
import FuzzSupport

// The list query string: split, percent-decoded, read into the bracket tree, then into
// a filter, sort, limit and skip. Whatever the input, the answer is a ListRequest or a
// 400; the pairs re-encoded read back as the same pairs; and the filter written back
// as a JSON `where` reads back as the same filter.

let schema: Schema = {
    let yaml = """
        collections:
          todos:
            schema:
              type: object
              properties:
                title: {type: string}
                done: {type: boolean}
                priority: {type: integer}
                score: {type: number}
                note: {type: [string, "null"]}
                tags: {type: array, items: {type: string}}
                owner: {type: object, properties: {name: {type: string}, age: {type: integer}}}
        """
    return try! ConfigLoader.parse(yaml).collections[0].schema
}()

func samePairs(_ a: [(name: String, value: String)], _ b: [(name: String, value: String)]) -> Bool {
    a.count == b.count
        && zip(a, b).allSatisfy { $0.name.sameCodeUnits(as: $1.name) && $0.value.sameCodeUnits(as: $1.value) }
}

func test(_ input: [UInt8]) {
    let raw = String(decoding: input, as: UTF8.self)
    let request: ListRequest
    do {
        let pairs = try QueryString.parse(raw[...])
        let again = try? QueryString.parse(QueryEncoding.text(pairs)[...])
        Fuzzer.check(again.map { samePairs($0, pairs) } ?? false, "the pairs \(pairs) do not read back", input: input)
        request = try ListQueryParser.parse(pairs, schema: schema, maxLimit: 1000)
    } catch {
        Fuzzer.check(error.status == 400, "\(error.status) \(error.message)", input: input)
        return
    }
    let filter = request.query.filter
    let text = WhereEncoding.object(filter).serialized
    do {
        let reread = try ListQueryParser.whereFilter(.string(text), name: "where", schema: schema)
        Fuzzer.check(reread == filter, "\(filter) written as \(text) reads back as \(reread)", input: input)
    } catch {
        Fuzzer.check(false, "\(filter) written as \(text) is refused: \(error.message)", input: input)
    }
}

Fuzzer.run(test)
