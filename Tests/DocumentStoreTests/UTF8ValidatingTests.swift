import DocumentStore
import Testing

/// `String(utf8Validating:)` takes ASCII as it is and validates the rest as the standard
/// library does: invalid UTF-8 is refused, never repaired into U+FFFD.
@Suite struct UTF8ValidatingTests {
    static let valid: [[UInt8]] = [
        [], Array("plain ascii {\"a\":1}".utf8), Array("jos\u{E9} e\u{301} \u{1F600} \u{7F}".utf8), [0x00, 0x41],
    ]
    static let invalid: [[UInt8]] = [
        [0xFF], [0x41, 0xC3], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF0, 0x9F, 0x98], [0xC0, 0xAF], [0x41, 0x80, 0x41],
    ]

    @Test(arguments: valid)
    func validTextIsTakenAsItIs(_ bytes: [UInt8]) {
        #expect(String(utf8Validating: bytes).map { Array($0.utf8) } == bytes)
        #expect(String(utf8Validating: bytes) == String(validating: bytes, as: UTF8.self))
    }

    @Test(arguments: invalid)
    func invalidTextIsRefused(_ bytes: [UInt8]) {
        #expect(String(utf8Validating: bytes) == nil)
    }
}
