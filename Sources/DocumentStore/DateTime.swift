import Foundation

/// RFC 3339 date-times: checking them (`format: date-time`) and writing the
/// `created`/`updated` timestamps.
public enum DateTime {
    /// `2024-03-01T12:30:00Z`, `2024-03-01T12:30:00.123+02:00`.
    public static func isValid(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func digits(_ range: Range<Int>) -> Int? {
            guard range.upperBound <= b.count else { return nil }
            var n = 0
            for i in range {
                guard b[i] >= 0x30, b[i] <= 0x39 else { return nil }
                n = n * 10 + Int(b[i] - 0x30)
            }
            return n
        }
        guard b.count >= 20, digits(0..<4) != nil, b[4] == UInt8(ascii: "-"), let month = digits(5..<7),
            b[7] == UInt8(ascii: "-"), let day = digits(8..<10),
            b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
            let hour = digits(11..<13), b[13] == UInt8(ascii: ":"), let minute = digits(14..<16),
            b[16] == UInt8(ascii: ":"), let second = digits(17..<19)
        else { return false }
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second <= 60 else { return false }
        var i = 19
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            let start = i
            while i < b.count, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
            guard i > start else { return false }
        }
        guard i < b.count else { return false }
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") { return i + 1 == b.count }
        guard b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-"), i + 6 == b.count,
            let oh = digits((i + 1)..<(i + 3)), b[i + 3] == UInt8(ascii: ":"), let om = digits((i + 4)..<(i + 6))
        else { return false }
        return oh < 24 && om < 60
    }

    /// Now, in UTC with milliseconds: `2024-03-01T12:30:00.123Z`.
    public static func now() -> String {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return string(seconds: time_t(t.tv_sec), milliseconds: Int(t.tv_nsec / 1_000_000))
    }

    /// `date` in the same form (a ticket's `expires`, a JSON log line's `time`).
    public static func string(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
        let (seconds, millis) = milliseconds.quotientAndRemainder(dividingBy: 1000)
        return string(seconds: time_t(seconds), milliseconds: Int(millis))
    }

    private static func string(seconds: time_t, milliseconds millis: Int) -> String {
        var seconds = seconds
        var parts = tm()
        gmtime_r(&seconds, &parts)
        // RFC 3339 has four-digit years; the clocks and expiries written here are years
        // away from either end.
        let year = min(max(Int(parts.tm_year) + 1900, 0), 9999)
        // Digit by digit into the string's own storage: every write that sets `created`
        // or `updated` comes here, and padding each field as a String of its own cost
        // a dozen allocations.
        return String(unsafeUninitializedCapacity: 24) { out in
            func put(_ value: Int, _ width: Int, at offset: Int) {
                var value = value
                for i in (offset..<offset + width).reversed() {
                    out[i] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
            }
            func put(_ separator: Unicode.Scalar, at offset: Int) { out[offset] = UInt8(ascii: separator) }
            put(year, 4, at: 0)
            put("-", at: 4)
            put(Int(parts.tm_mon) + 1, 2, at: 5)
            put("-", at: 7)
            put(Int(parts.tm_mday), 2, at: 8)
            put("T", at: 10)
            put(Int(parts.tm_hour), 2, at: 11)
            put(":", at: 13)
            put(Int(parts.tm_min), 2, at: 14)
            put(":", at: 16)
            put(Int(parts.tm_sec), 2, at: 17)
            put(".", at: 19)
            put(millis, 3, at: 20)
            put("Z", at: 23)
            return 24
        }
    }
}
