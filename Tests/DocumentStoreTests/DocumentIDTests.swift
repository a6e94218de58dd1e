import DocumentStore
import Testing

@Suite struct DocumentIDTests {
    @Test func generatedIdsHaveObjectIdShapeAndAreUnique() {
        var seen = Set<String>()
        for _ in 0..<10_000 {
            let id = DocumentID.generate()
            #expect(id.utf8.count == 24)
            #expect(id.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            seen.insert(id)
        }
        #expect(seen.count == 10_000)
    }

    @Test func generatedIdsSortByTime() {
        let early = DocumentID.generate(now: .init(timeIntervalSince1970: 1_000_000))
        let late = DocumentID.generate(now: .init(timeIntervalSince1970: 2_000_000))
        #expect(early < late)
        // The seconds first, zero-padded to 8 digits: 1,000,000 is 0xf4240.
        #expect(early.hasPrefix("000f4240"))
    }

    @Test func hexDigitsArePaddedToTheirWidthOrCountedWithoutLeadingZeros() {
        let written = String(unsafeUninitializedCapacity: 12) { buffer in
            let end = HexDigits.write(0xab, width: 4, into: buffer, at: 0)
            return HexDigits.write(0x1234_5678_9abc, width: 8, into: buffer, at: end)  // the low 8 digits
        }
        #expect(written == "00ab56789abc")
        #expect([0, 0xf, 0x10, 0xfff_ffff, UInt64.max].map(HexDigits.count) == [1, 1, 2, 7, 16])
    }

    @Test(arguments: ["a", "Z9", "_x", "~x", "-x", "a.b", "a..b", String(repeating: "a", count: 128)])
    func acceptsClientIds(_ id: String) {
        #expect(DocumentID.isValid(id))
    }

    @Test(arguments: ["", ".", "..", ".x", "a/b", "a b", "é", "a?b", "a%2Fb", String(repeating: "a", count: 129)])
    func rejectsBadIds(_ id: String) {
        #expect(!DocumentID.isValid(id))
    }
}

@Suite struct ChangeCursorTests {
    @Test func roundTrips() throws {
        let c = try #require(ChangeCursor("e7f3a1-1041"))
        #expect(c.epoch == "e7f3a1" && c.sequence == 1041)
        #expect(c.description == "e7f3a1-1041")
    }

    @Test(arguments: ["", "-1", "e7f3", "e7f3-", "e7f3-x", "E7F3-1", "e7f3--1", "zz-1"])
    func rejectsMalformed(_ text: String) {
        #expect(ChangeCursor(text) == nil)
    }
}

@Suite struct FieldPathTests {
    @Test func splitsDottedPaths() throws {
        #expect(try #require(FieldPath("owner.name")).components == ["owner", "name"])
    }

    @Test(arguments: ["", ".", "a.", ".a", "$where", "a.$gt", "a b", "a'b", "a\"b", "é"])
    func rejectsUnsafePaths(_ text: String) {
        #expect(FieldPath(text) == nil)
    }
}
