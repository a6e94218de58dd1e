import Foundation
import Testing

@testable import BackboneSSE

/// What a deployment reads to know what it runs: the release on `/metrics`, the
/// process figures a dashboard expects under their standard names, and one version in
/// every place that shows one.
@Suite struct ReleaseInfoTests {
    static func value(_ lines: [String], _ name: String) -> Double? {
        lines.first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
    }

    @Test func metricsCarryTheBuildAndTheProcessFigures() async throws {
        try await TestApp.run { app in
            let lines = try await MetricsTests.lines(app)
            #expect(
                lines.contains {
                    $0.hasPrefix(#"backbone_sse_build_info{version="\#(Release.version)",libmicrohttpd=""#) && $0.hasSuffix(" 1.0")
                })
            let resident = try #require(Self.value(lines, "process_resident_memory_bytes"))
            #expect(resident > 1_000_000 && resident < 10_000_000_000)
            let descriptors = try #require(Self.value(lines, "process_open_fds"))
            #expect(descriptors >= 3 && descriptors <= (Self.value(lines, "process_max_fds") ?? 0))
            let started = try #require(Self.value(lines, "process_start_time_seconds"))
            // The test runner started within the last hour, and not in the future.
            #expect(started <= Date().timeIntervalSince1970 + 1 && started > Date().timeIntervalSince1970 - 3600, "\(started)")
            #expect(lines.contains("# TYPE process_cpu_seconds_total counter"))
            // CPU time only grows.
            let first = try #require(Self.value(lines, "process_cpu_seconds_total"))
            var spin = 0.0
            for i in 0..<3_000_000 { spin += Double(i).squareRoot() }
            #expect(spin > 0)
            let again = try #require(Self.value(try await MetricsTests.lines(app), "process_cpu_seconds_total"))
            #expect(again >= first)
        }
    }

    @Test func theSpecAndTheClientLibraryNameThisRelease() throws {
        let spec = String(decoding: try #require(SystemEndpoints.openAPIDocument), as: UTF8.self)
        #expect(spec.contains("\n  version: \(Release.version)\n"))
        let library = String(decoding: try #require(SystemEndpoints.clientLibrary), as: UTF8.self)
        #expect(library.contains("version: '\(Release.version)'"))
    }
}
