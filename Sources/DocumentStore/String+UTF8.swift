extension String {
    /// `String(validating: bytes, as: UTF8.self)`, without its price for ASCII text (what
    /// nearly every key, id and value is): the standard library's validator is generic
    /// and looks up type metadata on every call. ASCII needs no validation, and
    /// `String(decoding:as:)` takes it as it is.
    public init?(utf8Validating bytes: UnsafeBufferPointer<UInt8>) {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            self = String(decoding: bytes, as: UTF8.self)
        } else if let text = String(validating: bytes, as: UTF8.self) {
            self = text
        } else {
            return nil
        }
    }

    /// The same for an array of bytes.
    public init?(utf8Validating bytes: [UInt8]) {
        guard let text = bytes.withUnsafeBufferPointer({ String(utf8Validating: $0) }) else { return nil }
        self = text
    }
}
