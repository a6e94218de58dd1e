import DocumentStore
import Foundation
import Synchronization

/// Identities of tokens already verified, until their expiry, so that a client sending
/// the same token on every request pays for one signature check. Bounded: when full,
/// expired entries go, and if none has expired the whole cache is dropped (a burst of
/// new tokens then costs what it would without a cache, nothing more).
final class TokenCache: Sendable {
    private let entries = Mutex<[Key: Identity]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func lookup(_ token: String, now: Date) -> Identity? {
        entries.withLock { entries in
            guard let identity = entries[Key(token)] else { return nil }
            if identity.expires > now { return identity }
            entries[Key(token)] = nil
            return nil
        }
    }

    func store(_ token: String, _ identity: Identity, now: Date) {
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expires > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[Key(token)] = identity
        }
    }

    var count: Int { entries.withLock { $0.count } }

    /// A token by its exact bytes, hashed by its last 32: a JWT ends with its signature,
    /// which tells tokens apart as well as the whole would, and hashing all of a token
    /// (often 150 to 1,000 bytes) on every request cost more than the rest of the lookup.
    struct Key: Hashable {
        let token: String

        init(_ token: String) {
            self.token = token
        }

        func hash(into hasher: inout Hasher) {
            let bytes = token.utf8
            hasher.combine(bytes.count)
            let hashed: Void? = bytes.withContiguousStorageIfAvailable { all in
                hasher.combine(bytes: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: all.suffix(32))))
            }
            if hashed == nil { for byte in bytes.suffix(32) { hasher.combine(byte) } }
        }

        static func == (a: Key, b: Key) -> Bool {
            a.token.sameCodeUnits(as: b.token)
        }
    }
}
