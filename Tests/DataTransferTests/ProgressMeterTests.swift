import Testing

@testable import DataTransfer

/// The progress indicator's text and pace, on a terminal and off it.
@Suite struct ProgressMeterTests {
    @Test func theStatusHasCountRateAndETA() {
        #expect(
            ProgressMeter.status(label: "import", count: 120_000, elapsed: 2.5, fraction: 0.4)
                == "import: 120,000 documents, 48,000/s, 40%, ETA 0:04")
        #expect(ProgressMeter.status(label: "export", count: 999, elapsed: 1, fraction: nil) == "export: 999 documents, 999/s")
    }

    @Test func numbersAndDurationsAreWrittenForPeople() {
        #expect(ProgressMeter.grouped(0) == "0")
        #expect(ProgressMeter.grouped(1_234_567) == "1,234,567")
        #expect(ProgressMeter.clock(75.4) == "1:16")
        #expect(ProgressMeter.clock(3725) == "1:02:05")
        #expect(ProgressMeter.seconds(12.345) == "12.3 s")
    }

    @Test func offATerminalAPlainLineComesEveryInterval() {
        var meter = ProgressMeter(label: "export", interactive: false, interval: 5)
        #expect(meter.update(count: 10, elapsed: 1, fraction: nil) == nil)
        #expect(meter.update(count: 50, elapsed: 5, fraction: nil) == "export: 50 documents, 10/s\n")
        #expect(meter.update(count: 60, elapsed: 9, fraction: nil) == nil)
        #expect(meter.update(count: 100, elapsed: 10, fraction: nil) != nil)
        #expect(meter.finish(count: 100, elapsed: 10, what: "exported") == "export: exported 100 documents in 10.0 s (10/s)\n")
    }

    @Test func onATerminalOneLineIsRedrawnInPlace() {
        var meter = ProgressMeter(label: "import", interactive: true)
        #expect(meter.update(count: 1, elapsed: 0.05, fraction: 0.5) == nil)
        let text = meter.update(count: 10, elapsed: 0.2, fraction: 0.5)
        #expect(text?.hasPrefix("\r\u{1B}[K") == true)
        #expect(text?.hasSuffix("\n") == false)
        #expect(meter.finish(count: 10, elapsed: 1, what: "imported").hasSuffix("\n"))
    }
}
