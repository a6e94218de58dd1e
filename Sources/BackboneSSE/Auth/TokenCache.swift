import Foundation
import Synchronization

/// Identities of tokens already verified, until their expiry, so that a client sending
/// the same token on every request pays for one signature check. Bounded: when full,
/// expired entries go, and if none has expired the whole cache is dropped (a burst of
/// new tokens then costs what it would without a cache, nothing more).
final class TokenCache: Sendable {
    private let entries = Mutex<[String: Identity]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func lookup(_ token: String, now: Date) -> Identity? {
        entries.withLock { entries in
            guard let identity = entries[token] else { return nil }
            if identity.expires > now { return identity }
            entries[token] = nil
            return nil
        }
    }

    func store(_ token: String, _ identity: Identity, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = identity
        }
    }

    var count: Int { entries.withLock { $0.count } }
}
