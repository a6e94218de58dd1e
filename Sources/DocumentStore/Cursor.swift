/// A position in a store's change log: the store's epoch (new when the store is wiped
/// or replaced) and a sequence number. Written `epoch-sequence`, e.g. `e7f3a1-1041`.
public struct ChangeCursor: Sendable, Equatable, CustomStringConvertible {
    public let epoch: String
    public let sequence: Int64

    public init(epoch: String, sequence: Int64) {
        self.epoch = epoch
        self.sequence = sequence
    }

    /// Only the form `description` writes: the sequence in decimal digits, without a
    /// sign or leading zeros, so that one position has one spelling (`a-041` and `a-+41`
    /// are not `a-41`).
    public init?(_ text: String) {
        guard let dash = text.lastIndex(of: "-") else { return nil }
        let epoch = String(text[..<dash])
        let digits = text[text.index(after: dash)...].utf8
        guard !epoch.isEmpty,
            epoch.utf8.allSatisfy({ b in
                (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)
            }),
            digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), digits.first != 0x30 || digits.count == 1,
            let sequence = Int64(Substring(digits))
        else {
            return nil
        }
        self.epoch = epoch
        self.sequence = sequence
    }

    public var description: String { epoch + "-" + String(sequence) }
}
