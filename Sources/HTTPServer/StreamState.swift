/// The life of one streamed response body, as a pure state machine: the owner calls
/// a mutating method under its lock and performs the returned action after (or, for
/// a suspend, while) holding it. No I/O here, so every transition is unit-tested.
///
///     open ──finish──▶ finishing ──buffer drained──▶ ended
///       │                  │
///       └──abort / client gone──▶ aborted ──▶ ended
///
/// Orthogonally, the connection is `suspended` when the reader found nothing to send;
/// whoever adds bytes (or ends the stream) must then resume it, exactly once.
public struct StreamState: Sendable {
    public enum Phase: Sendable, Equatable {
        case open
        /// No more writes; send what is buffered, then end the body.
        case finishing
        /// End now, dropping what is buffered (client gone, shutdown deadline).
        case aborted
        /// libmicrohttpd let go of the response.
        case ended
    }

    public enum WriteAction: Sendable, Equatable {
        case none
        /// The connection was suspended waiting for bytes: resume it.
        case resume
        /// The bytes do not fit: nothing was queued.
        case overflow
        /// The stream no longer takes bytes.
        case closed
    }

    public enum ReadAction: Sendable, Equatable {
        /// Copy this many bytes from `pending` (already taken off the buffer).
        case send(Int)
        /// Nothing to send: suspend the connection (the caller does so under the lock).
        case suspend
        /// Buffer drained after `finish`: end the body cleanly.
        case end
        /// End the body with an error (client gone, aborted).
        case fail
    }

    public private(set) var phase: Phase = .open
    public private(set) var suspended = false
    /// Bytes waiting to be sent.
    public private(set) var buffered: [UInt8]
    private var offset = 0
    /// Most bytes that may wait in the buffer.
    public let capacity: Int
    /// Room past `capacity` for a final message (`finish` may use it, `write` may not).
    public static let finalSlack = 4096

    public init(capacity: Int, initial: [UInt8] = []) {
        self.capacity = capacity
        self.buffered = initial
    }

    public var pendingCount: Int { buffered.count - offset }

    /// Queues bytes if they fit in `capacity`; an empty buffer takes a message of any
    /// size (a document larger than the buffer must still get through to a reader
    /// that keeps up).
    public mutating func write(_ bytes: [UInt8]) -> WriteAction {
        guard phase == .open else { return .closed }
        guard pendingCount == 0 || pendingCount + bytes.count <= capacity else { return .overflow }
        compact()
        // An idle stream's buffer is empty: it takes the event's bytes as they are,
        // sharing them with every other stream given the same event (no copy each).
        if buffered.isEmpty { buffered = bytes } else { buffered.append(contentsOf: bytes) }
        return takeResume()
    }

    /// Queue final bytes (if they fit with the slack) and end once they are sent.
    public mutating func finish(_ bytes: [UInt8] = []) -> WriteAction {
        guard phase == .open else { return .closed }
        phase = .finishing
        if pendingCount + bytes.count <= capacity + Self.finalSlack {
            compact()
            buffered.append(contentsOf: bytes)
        }
        return takeResume()
    }

    public mutating func abort() -> WriteAction {
        guard phase == .open || phase == .finishing else { return .closed }
        phase = .aborted
        return takeResume()
    }

    /// The reader wants up to `max` bytes.
    public mutating func read(max: Int) -> ReadAction {
        switch phase {
        case .aborted, .ended:
            return .fail
        case .open, .finishing:
            let n = min(max, pendingCount)
            if n > 0 {
                offset += n
                return .send(n)
            }
            if phase == .finishing { return .end }
            // Everything sent: let go of the buffer, so that an idle stream holds no
            // bytes (its `hello`, or the capacity a burst left behind) until its next
            // event.
            if pendingCount == 0 { (buffered, offset) = ([], 0) }
            suspended = true
            return .suspend
        }
    }

    /// Bytes not yet sent, for an owner that sends them itself (a stream whose socket
    /// it has taken over from libmicrohttpd).
    public var unsent: ArraySlice<UInt8> { buffered[offset...] }

    /// `n` bytes of `unsent` went out; once all have, the buffer is let go (an idle
    /// stream holds no bytes).
    public mutating func sent(_ n: Int) {
        offset += n
        if offset == buffered.count { (buffered, offset) = ([], 0) }
    }

    /// Whether the owner that sends the bytes itself should close now: aborted, or
    /// finished with nothing left to send.
    public var isDone: Bool {
        phase == .aborted || (phase == .finishing && pendingCount == 0)
    }

    /// The owner took the socket over instead of suspending the connection that `read`
    /// asked it to suspend: nobody is to resume it.
    public mutating func handedOff() {
        suspended = false
    }

    /// The bytes just handed out by `.send(n)`.
    public func lastSent(_ n: Int) -> ArraySlice<UInt8> {
        buffered[(offset - n)..<offset]
    }

    public mutating func ended() {
        phase = .ended
        suspended = false
        buffered = []
        offset = 0
    }

    private mutating func takeResume() -> WriteAction {
        guard suspended else { return .none }
        suspended = false
        return .resume
    }

    /// Drop the sent prefix once it is large, so the buffer does not grow forever.
    private mutating func compact() {
        if offset > 0 && (offset == buffered.count || offset >= 16_384) {
            buffered.removeFirst(offset)
            offset = 0
        }
    }
}
