import DocumentStore
import Synchronization
import Testing

/// The address of a local variable of a fresh frame: how deep the stack is here.
@inline(never) func stackAddress() -> UInt {
    var marker = 0
    return withUnsafeMutablePointer(to: &marker) { UInt(bitPattern: $0) }
}

@Suite struct CommitListenerTests {
    /// The listener is called once per commit for the life of the server: calling it
    /// must not get deeper with every call (a closure kept directly in a Mutex did, by 64
    /// bytes of stack per call, and overflowed the stack after ~100,000 commits).
    @Test func callingTheListenerDoesNotDeepenTheStack() throws {
        let slot = CommitListener()
        let depths = Mutex<[UInt]>([])
        slot.set { _ in depths.withLock { $0.append(stackAddress()) } }
        for _ in 0..<1000 {
            let listener = try #require(slot.current)
            listener([])
        }
        let seen = depths.withLock { $0 }
        #expect(seen.count == 1000)
        #expect(Set(seen).count == 1, "the stack deepened by \(Int(seen.first!) - Int(seen.last!)) bytes over 1,000 calls")
    }

    @Test func noListenerUntilOneIsSet() {
        #expect(CommitListener().current == nil)
    }
}
