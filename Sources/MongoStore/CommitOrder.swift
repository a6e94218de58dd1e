import DocumentStore

/// The order in which this process's committed changes reach the `onCommit` listener:
/// strictly by sequence, never N+1 before N (the stream hub relies on it). Writes
/// finish out of order — two writers take 11 and 12 and 12 commits first — so a
/// finished change is held until every sequence before it is delivered or known void.
/// A sequence this process does not own (another instance's, or one whose outcome
/// it lost with the connection) is settled by reading the change log (`needsLog`).
///
/// A pure state machine: the store mutates it under a lock and performs what it
/// returns after (or, for the ordered hand-off to the listener, while) holding it.
struct CommitOrder {
    /// Every sequence up to here has been handed to the listener, or was void.
    private(set) var delivered: Int64
    /// The last sequence this process allocated for a claim.
    private(set) var allocated: Int64
    /// Claimed here, not finished yet.
    private(set) var inflight: Set<Int64> = []
    /// Finished here and committed, waiting for an earlier sequence.
    private(set) var held: [Int64: Change] = [:]
    /// Finished here and void, waiting for an earlier sequence.
    private(set) var voided: Set<Int64> = []
    /// A log read is scheduled.
    var polling = false

    init(delivered: Int64, allocated: Int64) {
        self.delivered = delivered
        self.allocated = max(allocated, delivered)
    }

    /// The next sequence to claim: one past the highest known.
    mutating func allocate() -> Int64 {
        allocated += 1
        inflight.insert(allocated)
        return allocated
    }

    /// Another writer holds sequences up to `seen`: claim past them.
    mutating func raise(to seen: Int64) {
        allocated = max(allocated, seen)
    }

    /// A claim that lost its sequence to another writer, or whose outcome is unknown
    /// (the connection went away): the log will tell.
    mutating func release(_ sequence: Int64) {
        inflight.remove(sequence)
    }

    mutating func committed(_ change: Change) -> [Change] {
        inflight.remove(change.sequence)
        if change.sequence > delivered { held[change.sequence] = change }
        return drain()
    }

    mutating func void(_ sequence: Int64) -> [Change] {
        inflight.remove(sequence)
        if sequence > delivered { voided.insert(sequence) }
        return drain()
    }

    /// What the log says up to `head` (every entry there is done or void): `changes`
    /// are its done entries after `delivered`, in order.
    mutating func fromLog(_ changes: [Change], through head: Int64) -> [Change] {
        var out = changes.filter { $0.sequence > delivered && $0.sequence <= head }
        guard head > delivered else { return drain() }
        delivered = head
        held = held.filter { $0.key > head }
        voided = voided.filter { $0 > head }
        out += drain()
        return out
    }

    /// A change is waiting on a sequence this process cannot settle by itself.
    var needsLog: Bool {
        guard !held.isEmpty else { return false }
        let next = delivered + 1
        return !inflight.contains(next) && held[next] == nil && !voided.contains(next)
    }

    private mutating func drain() -> [Change] {
        var out: [Change] = []
        while true {
            let next = delivered + 1
            if let change = held.removeValue(forKey: next) {
                out.append(change)
            } else if voided.remove(next) == nil {
                return out
            }
            delivered = next
        }
    }
}
