import DocumentStore
import Foundation
import Synchronization
import Testing

/// The change log, cursors and commit notifications: what streams and resume rely on.
@Suite struct ChangeLogConformanceTests {
    @Test(arguments: StoreKind.allCases) func changesComeInOrderWithALimit(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let start = try store.head().sequence
        var written: [Change] = []
        for i in 0..<5 { written.append(try insert(store, #"{"id":"c\#(i)"}"#).change) }
        written.append(try update(store, "c0", [("x", .int(1))]).change)
        #expect(try store.changes(after: start, limit: 100) == written)
        #expect(try store.changes(after: start, limit: 2) == Array(written.prefix(2)))
        #expect(try store.changes(after: written[3].sequence, limit: 100) == Array(written.suffix(2)))
        #expect(try store.changes(after: written.last!.sequence, limit: 100).isEmpty)
    }

    @Test(arguments: StoreKind.allCases) func boundsAndPruning(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let empty = try store.logBounds()
        #expect(empty.oldest == nil)
        #expect(empty.canResume(after: empty.newest))
        var sequences: [Int64] = []
        for i in 0..<6 { sequences.append(try insert(store, #"{"id":"p\#(i)"}"#).change.sequence) }
        let bounds = try store.logBounds()
        #expect(bounds.oldest == sequences.first)
        #expect(bounds.newest == sequences.last)
        #expect(bounds.canResume(after: sequences.first! - 1))
        #expect(!bounds.canResume(after: sequences.last! + 1))

        let dropped = try store.pruneLog(keep: 2, maxAge: 3600)
        #expect(dropped == 4)
        let pruned = try store.logBounds()
        #expect(pruned.oldest == sequences[4])
        #expect(pruned.newest == sequences.last)
        #expect(!pruned.canResume(after: sequences[2]))
        #expect(pruned.canResume(after: sequences[3]))
        #expect(try store.changes(after: 0, limit: 100).map(\.sequence) == Array(sequences.suffix(2)))
        // The sequence goes on after pruning, and after reopening.
        let next = try insert(store, #"{"id":"after"}"#).change.sequence
        #expect(next == sequences.last! + 1)
    }

    /// A second instance on the same data (a restart; for MongoDB also another server
    /// sharing the database) has the same epoch and continues the same sequence, so a
    /// cursor of one resumes on the other.
    @Test(arguments: StoreKind.allCases) func anotherInstanceSharesEpochSequenceAndLog(_ kind: StoreKind) throws {
        let fixture = try StoreFixture(kind)
        let first = try insert(fixture.store, #"{"id":"a"}"#).change
        let other = try fixture.reopen()
        #expect(try other.head() == (try fixture.store.head()))
        let second = try insert(other, #"{"id":"b"}"#).change
        #expect(second.sequence == first.sequence + 1)
        #expect(try other.changes(after: 0, limit: 10).map(\.id) == ["a", "b"])
        #expect(try other.get("todos", id: "a") != nil)
        guard kind == .mongodb else { return }  // one SQLite file is one server's
        #expect(try fixture.store.changes(after: 0, limit: 10).map(\.id) == ["a", "b"])
        #expect(try fixture.store.head().sequence == second.sequence)
        let third = try insert(fixture.store, #"{"id":"c"}"#).change
        #expect(third.sequence == second.sequence + 1)
    }

    @Test(arguments: StoreKind.allCases) func listenersSeeEveryCommitOnceInSequenceOrder(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let seen = Collector<Change>()
        store.onCommit { seen.append(contentsOf: $0) }
        let start = try store.head().sequence
        let results = Collector<Result<WriteResult, StoreError>>()
        DispatchQueue.concurrentPerform(iterations: 60) { i in
            results.append(
                commit(store, "w\(i % 20)") { current in
                    if let current {
                        var document = current.parsed()
                        document["_v"] = .int(current.version + 1)
                        return .update(document, version: current.version + 1)
                    }
                    return .insert(JSONObject([("id", .string("w\(i % 20)")), ("_v", .int(1))]), version: 1)
                })
        }
        let committed = try results.values.map { try $0.get().change.sequence }.sorted()
        #expect(committed.count == 60)
        #expect(Set(committed).count == 60)
        let deadline = Date().addingTimeInterval(10)
        while seen.values.count < 60 && Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let delivered = seen.values.map(\.sequence)
        #expect(delivered == delivered.sorted(), "the listener saw sequences out of order")
        #expect(delivered == committed)
        #expect(try store.changes(after: start, limit: 1000).map(\.sequence) == committed)
        #expect(try store.head().sequence == committed.last)
    }

    /// A store calls its listener at every commit for the life of the server: the call
    /// must not get deeper with each commit (it did, by 64 bytes of stack per commit,
    /// until the stack overflowed after ~100,000 commits: swiftlang/swift#91348).
    @Test(arguments: StoreKind.allCases) func theListenerStaysAtTheSameStackDepth(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let commits = 500
        // Per thread (a listener may run on the writer's thread or a queue's), the
        // shallowest and deepest stack address it ran at.
        let depths = Mutex<(calls: Int, byThread: [UInt: (min: UInt, max: UInt)])>((0, [:]))
        store.onCommit { changes in
            var marker = 0
            let address = withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
            let thread = UInt(pthread_self())
            depths.withLock { state in
                state.calls += changes.count
                let seen = state.byThread[thread] ?? (address, address)
                state.byThread[thread] = (min(seen.min, address), max(seen.max, address))
            }
        }
        for n in 0..<commits { _ = try insert(store, #"{"id":"d\#(n)"}"#) }
        // The listener may run after the write is answered: wait for the last calls.
        let deadline = Date().addingTimeInterval(10)
        while depths.withLock({ $0.calls }) < commits, Date() < deadline { Thread.sleep(forTimeInterval: 0.01) }
        let (calls, byThread) = depths.withLock { $0 }
        #expect(calls == commits)
        // Different call paths on one thread differ by a few hundred bytes; the fault
        // this guards against moved the stack by 64 bytes per commit (32,000 here).
        let spread = byThread.values.map { $0.max - $0.min }.max() ?? 0
        #expect(spread < 16384, "the listener's stack moved by \(spread) bytes over \(commits) commits")
    }

    @Test(arguments: StoreKind.allCases) func concurrentWritersGetDistinctIncreasingSequences(_ kind: StoreKind) throws {
        let store = try StoreFixture(kind).store
        let sequences = Collector<Int64>()
        DispatchQueue.concurrentPerform(iterations: 100) { i in
            if case .success(let w) = commit(
                store, "c\(i)", { _ in .insert(JSONObject([("id", .string("c\(i)")), ("_v", .int(1))]), version: 1) })
            {
                sequences.append(w.change.sequence)
            }
        }
        let all = sequences.values.sorted()
        #expect(all.count == 100)
        #expect(Set(all).count == 100)
        #expect(try store.list("todos", query: ListQuery(limit: 1000)).documents.count == 100)
    }
}
