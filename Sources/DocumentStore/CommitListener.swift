import Synchronization

/// Where a store keeps its `onCommit` listener, read at every commit.
///
/// The closure sits in a struct on purpose. A closure kept directly in a `Mutex`
/// (`Mutex<(@Sendable ([Change]) -> Void)?>`) is stored in its generic form, and each
/// `withLock` that reads it wraps it in one more pair of reabstraction thunks (Swift
/// 6.3.1, debug and release builds; swiftlang/swift#91348): every commit made the next
/// call of the listener 64 bytes of stack and a few nanoseconds deeper, until, after
/// some 100,000 commits, the stack overflowed. A struct's stored closure keeps its form.
public final class CommitListener: Sendable {
    private struct Slot: Sendable {
        let listener: @Sendable ([Change]) -> Void
    }

    private let slot = Mutex<Slot?>(nil)

    public init() {}

    public func set(_ listener: @escaping @Sendable ([Change]) -> Void) {
        slot.withLock { $0 = Slot(listener: listener) }
    }

    /// The listener, if one is set.
    public var current: (@Sendable ([Change]) -> Void)? {
        slot.withLock { $0 }?.listener
    }
}
