import Foundation
import Logging
import Testing
import TestSupport

@testable import HTTPServer

/// The request-timeout sweep on real sockets (a socket pair per connection), without a
/// server: what it shuts down, what it leaves, and the log lines it writes.
@Suite struct ConnectionWatchTests {
    /// A connected pair of sockets: `server` stands for libmicrohttpd's end.
    final class SocketPair {
        let server: Int32
        let client: Int32

        init() {
            var fds: [Int32] = [0, 0]
            precondition(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0)
            (server, client) = (fds[0], fds[1])
        }

        /// Whether the server's end has been shut down for writing (the sweep's work).
        var serverShutDown: Bool {
            var byte: UInt8 = 0
            return recv(client, &byte, 1, Int32(MSG_DONTWAIT)) == 0
        }

        deinit {
            close(server)
            close(client)
        }
    }

    private func clock(_ pair: SocketPair, waitingFor seconds: Double) -> ConnectionClock {
        let clock = ConnectionClock(fd: pair.server, clientAddress: "127.0.0.1")
        clock.receivingSince.store(DispatchTime.now().uptimeNanoseconds - UInt64(seconds * 1e9), ordering: .relaxed)
        return clock
    }

    @Test func aRequestPastTheLimitIsCutAndLoggedOnce() {
        let lines = RecordedLines()
        let watch = ConnectionWatch(limit: .seconds(30), limits: LimitLog(logger: lines.logger))
        let slow = SocketPair()
        let fresh = SocketPair()
        watch.opened(clock(slow, waitingFor: 31))
        watch.opened(clock(fresh, waitingFor: 29))
        watch.sweep()
        watch.sweep()
        #expect(slow.serverShutDown)
        #expect(!fresh.serverShutDown)
        #expect(lines.all == ["request_timeout 1"])
    }

    @Test func aStreamOrAnAnswerInProgressIsNeverCut() {
        let watch = ConnectionWatch(limit: .seconds(1), limits: LimitLog(logger: RecordedLines().logger))
        let stream = SocketPair()
        let c = clock(stream, waitingFor: 60)
        c.requestReceived()
        watch.opened(c)
        watch.sweep()
        #expect(!stream.serverShutDown)
    }

    @Test func aClientGoneBeforeItsRequestIsFreedAfterASecond() {
        let lines = RecordedLines()
        let watch = ConnectionWatch(limit: .seconds(30), limits: LimitLog(logger: lines.logger))
        let gone = SocketPair()
        let young = SocketPair()
        let waiting = SocketPair()
        // Bytes unread and the client's FIN queued behind them, as libmicrohttpd leaves
        // a connection it accepted late.
        _ = send(gone.client, "GET /he", 7, 0)
        shutdown(gone.client, Int32(SHUT_WR))
        shutdown(young.client, Int32(SHUT_WR))
        watch.opened(clock(gone, waitingFor: 1.5))
        watch.opened(clock(young, waitingFor: 0.2))
        watch.opened(clock(waiting, waitingFor: 1.5))
        watch.sweep()
        #expect(gone.serverShutDown)
        #expect(!young.serverShutDown)  // not yet a second: libmicrohttpd may still read it
        #expect(!waiting.serverShutDown)  // slow, but still there: the timeout's business
        #expect(lines.all.isEmpty)  // a client leaving is no limit biting
    }

    @Test func peerClosedSeesTheFINPastUnreadBytes() {
        let pair = SocketPair()
        #expect(!ConnectionWatch.peerClosed(pair.server))
        _ = send(pair.client, "x", 1, 0)
        #expect(!ConnectionWatch.peerClosed(pair.server))
        shutdown(pair.client, Int32(SHUT_WR))
        #expect(ConnectionWatch.peerClosed(pair.server))
    }

    @Test func limitLinesAreRateLimitedAndKeepTheCount() {
        let lines = RecordedLines()
        let log = LimitLog(logger: lines.logger, interval: .milliseconds(200))
        log.note(.connectionLimit)
        log.note(.connectionLimit, count: 5)
        log.note(.requestTimeout, count: 2)
        log.flush()
        #expect(lines.all == ["connection_limit 1", "request_timeout 2"])
        Thread.sleep(forTimeInterval: 0.25)
        log.flush()
        log.flush()
        #expect(lines.all == ["connection_limit 1", "request_timeout 2", "connection_limit 5"])
    }
}

/// `limit` and `limit.count` of each line a `LimitLog` wrote.
final class RecordedLines: Sendable {
    let log = CapturedLog()
    var logger: Logger { log.logger }

    var all: [String] {
        log.all.map { line in
            "\(line.metadata["limit"].map { "\($0)" } ?? "-") \(line.metadata["limit.count"].map { "\($0)" } ?? "-")"
        }
    }
}
