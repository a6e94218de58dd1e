import Synchronization

/// The per-address connection cap (`--max-connections-per-ip`), counted by the server
/// rather than by libmicrohttpd: a stream handed off to `StreamSocketLoop` leaves
/// libmicrohttpd's count but still holds a connection of its client's, so it counts
/// here until its socket closes. A connection counts from libmicrohttpd's
/// connection-started notification to its closed one, or, once its stream is handed
/// off, to the closing of the stream's socket (once either way: the place passes from
/// the one to the other); the accept policy refuses a new one from an address already
/// at the cap. (Two connections accepted at once by two threads may both pass before
/// either counts: the cap can be passed by one per server thread, briefly.)
final class ConnectionsPerAddress: Sendable {
    let limit: Int
    private let counts = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Whether a new connection from `address` is within the cap.
    func admits(_ address: String) -> Bool {
        counts.withLock { ($0[address] ?? 0) < limit }
    }

    func opened(_ address: String) {
        counts.withLock { $0[address, default: 0] += 1 }
    }

    func closed(_ address: String) {
        counts.withLock { counts in
            guard let n = counts[address] else { return }
            counts[address] = n > 1 ? n - 1 : nil
        }
    }

    /// Connections counted for `address` (for tests).
    func count(_ address: String) -> Int {
        counts.withLock { $0[address] ?? 0 }
    }
}
