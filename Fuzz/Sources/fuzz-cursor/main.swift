import DocumentStore
import FuzzSupport

// The SSE resume position (`Last-Event-ID`, `since=`; the stream endpoint reads both
// with ChangeCursor.init): any text is refused or names a cursor whose written form
// reads back as the same cursor and is the text itself, so that one position has one
// spelling.

func test(_ input: [UInt8]) {
    let text = String(decoding: input, as: UTF8.self)
    guard let cursor = ChangeCursor(text) else { return }
    Fuzzer.check(ChangeCursor(cursor.description) == cursor, "\(cursor) does not read back", input: input)
    Fuzzer.check(cursor.description.sameCodeUnits(as: text), "\(text.debugDescription) read as \(cursor)", input: input)
    Fuzzer.check(cursor.sequence >= 0 && !cursor.epoch.isEmpty, "accepted \(cursor)", input: input)
}

Fuzzer.run(test)
