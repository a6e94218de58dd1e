import DocumentStore

/// The order in which this process's committed changes reach the `onCommit` listener:
/// strictly by sequence, never N+1 before N. Writes finish out of order — two writers
/// take 11 and 12 and 12 commits first — so a finished change is held until every
/// sequence before it that this process owns is delivered or known void. A sequence it
/// does not own (another instance's, or one whose outcome it lost with the connection)
/// is passed over: the listener's feed (`LogPollingFeed`) finds the gap and reads that
/// sequence from the change log, holding this change back until it has.
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
    /// (the connection went away): the log will tell. What waited on it may go.
    mutating func release(_ sequence: Int64) -> [Change] {
        inflight.remove(sequence)
        return drain()
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

    /// Hands over the held changes whose turn has come: past void sequences and past
    /// those this process does not own, up to the first sequence still in flight here.
    private mutating func drain() -> [Change] {
        var out: [Change] = []
        while !held.isEmpty {
            let next = delivered + 1
            if let change = held.removeValue(forKey: next) {
                out.append(change)
            } else if voided.remove(next) == nil {
                if inflight.contains(next) { break }
                // Not this process's to settle: on to the next sequence it owns (held
                // and voided lie past `delivered`; a held change bounds the search).
                let owned = [held.keys.min(), voided.min(), inflight.filter { $0 > next }.min()].compactMap { $0 }.min()!
                delivered = owned - 1
                continue
            }
            delivered = next
        }
        return out
    }
}
