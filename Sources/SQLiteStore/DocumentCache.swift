import DocumentStore
import Synchronization

/// Documents read recently, kept until a commit changes them: `GET /{c}/{id}` then costs
/// a lookup instead of a snapshot and a statement. Filled by reads, emptied of a
/// document by the commit that writes it (`committed`, which runs before the write is
/// answered or streamed), bounded by bytes.
///
/// A read that misses races with commits: it reads at its snapshot's head `r`, and a
/// commit at `w > r` may change the document before the read stores what it found. So
/// a read is kept only if no commit has been seen since its snapshot (`r` is at least
/// the last head `committed` saw); a read that lost the race is simply not kept.
final class DocumentCache: Sendable {
    struct Key: Hashable, Sendable {
        let collection: String
        let id: String
    }

    private struct Entry {
        let document: StoredDocument
        /// The head of the snapshot it was read at.
        let readAt: Int64
        let cost: Int
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var cost = 0
        /// Keys in the order they were stored, oldest first from `oldest` (some may be
        /// gone since, invalidated): eviction goes in this order.
        var order: [Key] = []
        var oldest = 0
        /// Every commit up to this one has been seen by `committed`: a cached document
        /// is the document at this head, and a read from an older snapshot is not kept.
        var head: Int64 = 0
    }

    private let state = Mutex(State())
    /// Most bytes kept (document text plus a fixed overhead per entry); 0: off.
    let maxCost: Int
    static let entryOverhead = 160

    init(maxCost: Int) {
        self.maxCost = maxCost
    }

    /// The cached document, and the head it is known to be current at.
    func lookup(_ collection: String, _ id: String) -> (document: StoredDocument, head: Int64)? {
        guard maxCost > 0 else { return nil }
        return state.withLock { state in
            state.entries[Key(collection: collection, id: id)].map { ($0.document, max($0.readAt, state.head)) }
        }
    }

    /// Keeps a document read at `head`, unless a commit has been seen since.
    func store(_ collection: String, _ document: StoredDocument, readAt head: Int64) {
        let cost = document.json.utf8.count + Self.entryOverhead
        guard maxCost > 0, cost <= maxCost / 16 else { return }
        let key = Key(collection: collection, id: document.id)
        state.withLock { state in
            guard head >= state.head else { return }
            if let old = state.entries.updateValue(Entry(document: document, readAt: head, cost: cost), forKey: key) {
                state.cost -= old.cost
            } else {
                state.order.append(key)
            }
            state.cost += cost
            // A little at a time: the lock is held while evicting, and a cache kept nearly
            // full serves more reads than one swinging between three quarters and full.
            if state.cost > maxCost { Self.evict(&state, downTo: maxCost - maxCost / 64) }
            // Keys of invalidated entries stay in `order` until evicted: bound them.
            if state.order.count - state.oldest > 2 * state.entries.count + 1024 {
                state.order = state.order[state.oldest...].filter { state.entries[$0] != nil }
                state.oldest = 0
            }
        }
    }

    /// A commit made these changes (called before anyone hears of it).
    func committed(_ changes: [Change]) {
        guard maxCost > 0, let last = changes.last?.sequence else { return }
        state.withLock { state in
            for change in changes {
                if let old = state.entries.removeValue(forKey: Key(collection: change.collection, id: change.id)) {
                    state.cost -= old.cost
                }
            }
            state.head = max(state.head, last)
        }
    }

    /// Everything goes: documents were written past the commit hook (`importDocuments`).
    func clear() {
        state.withLock { state in
            state.entries.removeAll()
            state.cost = 0
            state.order.removeAll()
            state.oldest = 0
        }
    }

    var count: Int { state.withLock { $0.entries.count } }

    /// The oldest stored go first. (Not the dictionary's own order: emptying the low
    /// buckets over and over packed the rest into one long run of full buckets, and
    /// with linear probing every insert and every miss walked it: at a million
    /// documents read at random, a few thousand reads a second. bench/NOTES.md#document-cache)
    private static func evict(_ state: inout State, downTo target: Int) {
        while state.cost > target, state.oldest < state.order.count {
            let key = state.order[state.oldest]
            state.oldest += 1
            if let entry = state.entries.removeValue(forKey: key) { state.cost -= entry.cost }
        }
        if state.oldest > state.order.count / 2 {
            state.order.removeFirst(state.oldest)
            state.oldest = 0
        }
    }
}
