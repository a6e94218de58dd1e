/// How `LogPollingFeed` merges the changes another feed reports with those it reads from
/// the change log into one run, in sequence order, each once. A change that arrives past
/// one not yet handed over waits until the log has filled the gap.
///
/// A pure state machine: the feed mutates it under a lock and hands over what it
/// returns, in the order returned, before releasing the lock.
struct ChangeMerge {
    /// Every change up to here has been handed over (or the log had nothing there).
    private(set) var delivered: Int64
    /// Reported past a gap, waiting for the log.
    private var held: [Int64: Change] = [:]

    init(delivered: Int64) {
        self.delivered = delivered
    }

    /// A change waits on sequences only the log can give: read it.
    var hasGap: Bool { !held.isEmpty }

    /// Changes reported by the upstream feed, in sequence order but maybe with gaps.
    /// Returns those that may go now.
    mutating func reported(_ changes: [Change]) -> [Change] {
        var out: [Change] = []
        for change in changes where change.sequence > delivered {
            if change.sequence == delivered + 1 {
                out.append(change)
                delivered = change.sequence
                drain(into: &out)
            } else {
                held[change.sequence] = change
            }
        }
        return out
    }

    /// What a read of the log found after some earlier `delivered`: its changes (written
    /// entries, in order) and the sequence through which the log is complete (every
    /// entry up to there written or void: the last one read). Returns what goes now.
    mutating func read(_ changes: [Change], through last: Int64) -> [Change] {
        var out = changes.filter { $0.sequence > delivered && $0.sequence <= last }
        guard last > delivered else { return out }
        delivered = last
        if !held.isEmpty { held = held.filter { $0.key > last } }
        drain(into: &out)
        return out
    }

    private mutating func drain(into out: inout [Change]) {
        while let next = held.removeValue(forKey: delivered + 1) {
            out.append(next)
            delivered = next.sequence
        }
    }
}
