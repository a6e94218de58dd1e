import DocumentStore
import Testing

/// What the fuzzer and its Python oracle found (Fuzz/, docs/fuzzing.md).
@Suite struct FuzzFindingsTests {
    /// `-0.0` was written as `0.0`: Int64(-0.0) has no sign.
    @Test func negativeZeroKeepsItsSign() throws {
        let value = try JSONParser.parse("[-0.0]")
        #expect(value.serialized == "[-0.0]")
        guard case .array(let items) = try JSONParser.parse(value.serialized), case .double(let d) = items.first else {
            Issue.record("not read back as a double")
            return
        }
        #expect(d == 0 && d.sign == .minus)
    }

    /// `"\u00e9"` and `"e\u0301"` are canonically equivalent, so Swift's `==` equates them;
    /// as JSON (and to SQLite and MongoDB) they are two names, not a duplicate.
    @Test func canonicallyEquivalentNamesAreTwoMembers() throws {
        let object = try #require(try JSONParser.parse(#"{"\u00e9":1,"e\u0301":2}"#).objectValue)
        #expect(object.count == 2)
        #expect(object["\u{E9}"] == .int(1))
        #expect(object["e\u{301}"] == .int(2))
        #expect(JSON.object(object) == JSON.object(object))
        #expect(JSON.string("\u{E9}") != JSON.string("e\u{301}"))
    }

    /// The in-memory matcher (filtered streams) orders and equates strings by their bytes,
    /// as SQLite does: a canonically equivalent string is not equal.
    @Test func matcherComparesStringsByTheirBytes() throws {
        let document = JSONObject([("name", .string("e\u{301}"))])
        let path = try #require(FieldPath("name"))
        #expect(!Filter.compare(path, .eq, .string("\u{E9}")).matches(document))
        #expect(!Filter.compare(path, .gte, .string("\u{E9}")).matches(document))
        #expect(Filter.compare(path, .lt, .string("\u{E9}")).matches(document))
        #expect(Filter.isIn(path, [.string("\u{E9}")]).matches(document) == false)
    }

    /// 2^53 + 1 was equal to the double 2^53 in memory (both read as Doubles) but not in
    /// SQLite, so a filtered stream and a list disagreed (fuzz-filter-sql).
    @Test func integerAndDoubleCompareExactly() throws {
        let big = JSON.int(9_007_199_254_740_993)
        #expect(big != .double(9_007_199_254_740_992))
        #expect(JSON.int(3) == .double(3))
        #expect(JSON.compareNumbers(big, .double(9_007_199_254_740_992)) == 1)
        #expect(JSON.compareNumbers(.double(2.5), .int(2)) == 1)
        #expect(JSON.compareNumbers(.double(-2.5), .int(-2)) == -1)
        #expect(JSON.compareNumbers(.double(1e300), .int(.max)) == 1)
        #expect(JSON.compareNumbers(.double(-0x1p63), .int(.min)) == 0)
        let document = JSONObject([("n", big)])
        let path = try #require(FieldPath("n"))
        #expect(!Filter.compare(path, .eq, .double(9_007_199_254_740_992)).matches(document))
        #expect(Filter.compare(path, .gt, .double(9_007_199_254_740_992)).matches(document))
    }

    /// `e7f3a1-0041` and `e7f3a1-+41` were read as `e7f3a1-41` (fuzz-cursor): one position,
    /// one spelling.
    @Test(arguments: ["e7f3a1-0041", "e7f3a1-+41", "e7f3a1-00", "e7f3a1-", "e7f3a1- 1", "e7f3a1-٤"])
    func cursorRefusesOtherSpellings(_ text: String) {
        #expect(ChangeCursor(text) == nil)
    }

    @Test(arguments: ["e7f3a1-41", "0-0", "ab-9223372036854775807"])
    func cursorReadsItsOwnSpelling(_ text: String) throws {
        #expect(try #require(ChangeCursor(text)).description == text)
    }
}
