/// Where the stream hub hears of committed changes, without knowing how they came: a
/// store's own commits in this process (`StoreCommitFeed`), those completed from the
/// change log for a store that other servers write to as well (`LogPollingFeed`), and
/// later a feed nudged by a broker (Redis) that some other server's commit has grown
/// the log.
///
/// The change log stays the truth; a feed only spares its receiver reading it. The
/// contract, for every conformance:
/// - **Once, in order.** After `start(after:_:)`, the receiver is called with batches of
///   changes whose sequences are strictly increasing across all calls: never a change
///   at or below `position`, never one twice, never N+1 before N. One call at a time.
/// - **No gap, where the feed promises it.** A *complete* feed hands over every change
///   the log holds after `position`. It reads the log itself when it learns of a change
///   past one it has not had, holds that change back until the log has the missing ones
///   (the writer of a missing sequence may still be at work), and only then hands both
///   over: the feed reads the log on a gap, not its receiver. `LogPollingFeed` is
///   complete; `StoreCommitFeed` is complete only over a store that is its log's only
///   writer (`SQLiteStore`), and otherwise passes over the sequences other writers took.
/// - **The receiver stays quick.** It runs on the thread that learnt of the changes (a
///   store's writer, a feed's poller), possibly while the feed holds a lock to keep the
///   batches in order: it must return at once (queue its work, do no I/O) and never call
///   back into the feed. A receiver that sees a gap all the same (it reordered batches
///   itself, or listens to a feed that is not complete) reads the change log after its
///   position: the log has everything.
///
/// Feeds compose: `LogPollingFeed` takes another feed's batches and completes them
/// from the log; a broker's feed would wrap a `LogPollingFeed` and call its
/// `logMayHaveGrown()` when the broker says another server committed.
public protocol ChangeFeed: Sendable {
    /// Begins handing over the changes committed after `position` (a sequence of the
    /// change log) to `receive`. Called once.
    func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void)

    /// Ends the hand-over: the receiver is not called again, except by a call already
    /// under way; timers and connections of the feed are released.
    func stop()
}
