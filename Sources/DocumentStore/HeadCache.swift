import Synchronization

/// Values that stay true for as long as the change log's head does not move: every
/// write appends to the log in its own transaction, so an unchanged head means
/// unchanged documents: the service's whole list answers. Bounded by entries and by a
/// total cost (bytes, say); when full, the entries of older heads go first, then
/// everything.
public final class HeadCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Entry {
        let head: Int64
        let value: Value
        let cost: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var cost = 0
    }

    private let state = Mutex(State())
    public let capacity: Int
    public let maxCost: Int

    public init(capacity: Int, maxCost: Int = .max) {
        self.capacity = capacity
        self.maxCost = maxCost
    }

    /// The value stored for `key` at exactly this head.
    public func lookup(_ key: Key, head: Int64) -> Value? {
        state.withLock { state in
            guard let entry = state.entries[key], entry.head == head else { return nil }
            return entry.value
        }
    }

    public func store(_ key: Key, head: Int64, value: Value, cost: Int = 1) {
        guard cost <= maxCost else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.cost -= old.cost }
            if state.entries.count >= capacity || state.cost + cost > maxCost {
                // Entries from before the newest head can never be used again.
                state.entries = state.entries.filter { $0.value.head >= head }
                state.cost = state.entries.values.reduce(0) { $0 + $1.cost }
                if state.entries.count >= capacity || state.cost + cost > maxCost {
                    state.entries.removeAll(keepingCapacity: true)
                    state.cost = 0
                }
            }
            state.entries[key] = Entry(head: head, value: value, cost: cost)
            state.cost += cost
        }
    }
}
