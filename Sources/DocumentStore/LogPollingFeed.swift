import Dispatch
import Logging
import Synchronization

/// A complete feed for a store that several servers write to (MongoDB): the changes of
/// an upstream feed (this process's commits), merged with what the change log holds, in
/// sequence order, each once (see `ChangeFeed`).
///
/// The log is read
/// - at once when an upstream change arrives past one not yet handed over (another
///   server's sequence, or one whose writer lost its connection), then again with a
///   growing delay (5 ms to 250 ms) until the log has filled the gap;
/// - every `interval` seconds, for other servers' changes that no upstream reports
///   (0: never; gaps are still filled);
/// - when `logMayHaveGrown()` is called (a broker said so); a call that comes while a
///   read is under way is not lost: that read is followed by another.
///
/// A read of the log asks for the entries after the handed-over position
/// (`changes(after:limit:)`: the written ones up to the log's head, where every entry
/// is settled). Up to the last one it returns, a missing sequence is thus known to be
/// void; a change held back is either in the answer or still past the head.
public final class LogPollingFeed: ChangeFeed {
    private struct Receiver {
        let receive: @Sendable ([Change]) -> Void
    }

    private struct State {
        var merge = ChangeMerge(delivered: 0)
        /// Nil before `start` and after `stop`. (A closure in a struct: see `CommitListener`.)
        var receiver: Receiver?
        /// A log read is scheduled or running.
        var reading = false
        /// Asked to read while a read was under way: that read may have begun before the
        /// change it was asked for was committed, so another follows it.
        var readAgain = false
        var timer: (any DispatchSourceTimer)?
    }

    private let upstream: any ChangeFeed
    private let store: any DocumentStore
    private let interval: Double
    private let logger: Logger
    private let state = Mutex(State())
    private let poller = DispatchQueue(label: "log-polling-feed")
    private let foundByPoll = Atomic<Int>(0)

    /// Reads on the `interval` timer that found changes nothing had announced: with a
    /// broker, the changes its messages did not bring in time (lost, or Redis away).
    public var pollsThatFoundChanges: Int { foundByPoll.load(ordering: .relaxed) }

    /// Entries read from the log at a time.
    static let batch = 1000

    public init(_ upstream: any ChangeFeed, store: any DocumentStore, every interval: Double, logger: Logger) {
        self.upstream = upstream
        self.store = store
        self.interval = interval
        self.logger = logger
    }

    public func start(after position: Int64, _ receive: @escaping @Sendable ([Change]) -> Void) {
        state.withLock { state in
            state.merge = ChangeMerge(delivered: position)
            state.receiver = Receiver(receive: receive)
        }
        upstream.start(after: position) { [weak self] changes in self?.reported(changes) }
        guard interval > 0 else { return }
        state.withLock { state in
            let timer = DispatchSource.makeTimerSource(queue: poller)
            timer.schedule(deadline: .now() + interval, repeating: interval, leeway: .milliseconds(50))
            timer.setEventHandler { [weak self] in self?.poll() }
            timer.resume()
            state.timer = timer
        }
    }

    public func stop() {
        upstream.stop()
        state.withLock { state in
            state.receiver = nil
            state.timer?.cancel()
            state.timer = nil
        }
    }

    /// Reads the log now (or right after the read under way): another server may have
    /// committed.
    public func logMayHaveGrown() {
        if beginRead() { read(after: 0) }
    }

    /// Reads the log unless every change up to `sequence` has been handed over already
    /// (a broker's message about a commit the feed already has).
    public func logMayHaveGrown(through sequence: Int64) {
        guard state.withLock({ $0.merge.delivered < sequence }) else { return }
        logMayHaveGrown()
    }

    private func poll() {
        guard beginRead() else { return }
        read(after: 0, counting: true)
    }

    // MARK: Merging

    private func reported(_ changes: [Change]) {
        let gap = state.withLock { state -> Bool in
            let ready = state.merge.reported(changes)
            hand(ready, in: &state)
            guard state.merge.hasGap, !state.reading, state.receiver != nil else { return false }
            state.reading = true
            return true
        }
        // The missing change's writer (another server) is most likely about to finish.
        if gap { read(after: 0.005) }
    }

    /// Hands changes over under the lock, so that batches leave in sequence order.
    private func hand(_ changes: [Change], in state: inout State) {
        if !changes.isEmpty, let receiver = state.receiver { receiver.receive(changes) }
    }

    private func beginRead() -> Bool {
        state.withLock { state in
            guard state.receiver != nil else { return false }
            guard !state.reading else {
                state.readAgain = true
                return false
            }
            state.reading = true
            return true
        }
    }

    /// Reads the log after the handed-over position, again while a gap remains (or the
    /// read was a full batch).
    private func read(after delay: Double, counting: Bool = false) {
        poller.asyncAfter(deadline: .now() + delay) { [weak self] in
            guard let self else { return }
            var full = false
            do {
                // This read serves every request made before it began.
                let from = state.withLock { state in
                    state.readAgain = false
                    return state.merge.delivered
                }
                let changes = try store.changes(after: from, limit: Self.batch)
                full = changes.count == Self.batch
                let through = changes.last?.sequence ?? from
                let handed = state.withLock { state in
                    let ready = state.merge.read(changes, through: through)
                    hand(ready, in: &state)
                    return ready.count
                }
                if counting, handed > 0 { foundByPoll.add(1, ordering: .relaxed) }
            } catch {
                logger.debug("change-log read failed", metadata: ["error": "\(error)"])
            }
            let again = state.withLock { state -> Double? in
                guard state.receiver != nil else {
                    state.reading = false
                    return nil
                }
                if full || state.readAgain { return 0 }
                if state.merge.hasGap { return min(max(delay * 2, 0.005), 0.25) }
                state.reading = false
                return nil
            }
            if let again { read(after: again) }
        }
    }
}
