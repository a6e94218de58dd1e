/// A position in a store's change log: the store's epoch (new when the store is wiped
/// or replaced) and a sequence number. Written `epoch-sequence`, e.g. `e7f3a1-1041`.
public struct ChangeCursor: Sendable, Equatable, CustomStringConvertible {
    public let epoch: String
    public let sequence: Int64

    public init(epoch: String, sequence: Int64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    public init?(_ text: String) {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let epoch = String(text[..<dash])
        guard !epoch.isEmpty,
            epoch.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)
            }), let sequence = Int64(text[text.index(after: dash)...]), sequence >= 0
        else {
            return nil
        }
        self.epoch = epoch
        self.sequence = sequence
    }

    public var description: String { epoch + "-" + String(sequence) }
}
