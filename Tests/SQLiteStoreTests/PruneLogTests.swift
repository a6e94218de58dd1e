import DocumentStore
import Foundation
@testable import SQLiteStore
import Testing

/// Pruning goes in slices (so that writes get in between), and still drops everything due.
@Suite struct PruneLogTests {
    @Test func pruningPastTheNewestGoesInSlicesAndKeepsTheNewest() throws {
        let store = try makeStore()
        for n in 0..<35 { try insert(store, #"{"id":"d\#(n)","_v":1}"#) }
        let head = try store.head().sequence
        #expect(try store.pruneLog(keep: 3, maxAge: 3600, slice: 10) == 32)
        #expect(try store.changes(after: 0, limit: 100).map(\.sequence) == [head - 2, head - 1, head])
        #expect(try store.pruneLog(keep: 3, maxAge: 3600, slice: 10) == 0)
    }

    @Test func pruningByAgeGoesInSlicesToo() throws {
        let store = try makeStore()
        for n in 0..<10 { try insert(store, #"{"id":"d\#(n)","_v":1}"#) }
        Thread.sleep(forTimeInterval: 0.01)
        // Every entry is older than 0 seconds; none is past the newest 1,000.
        #expect(try store.pruneLog(keep: 1000, maxAge: 0, slice: 4) == 10)
        #expect(try store.changes(after: 0, limit: 100).isEmpty)
        // The sequence goes on.
        try insert(store, #"{"id":"later","_v":1}"#)
        #expect(try store.logBounds().oldest == store.head().sequence)
    }
}
