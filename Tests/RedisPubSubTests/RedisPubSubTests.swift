import Foundation
import TestSupport
import Testing

@testable import RedisPubSub

/// The links against a real redis-server each test starts on a port of its own.
/// Serialized: the timings asserted here mean little on a machine the other tests load.
@Suite(.serialized, .enabled(if: RedisServerProcess.isInstalled, "redis-server is not installed (apt-get install redis-server)"))
struct RedisPubSubTests {
    @Test func aMessageGoesFromOneInstanceToAnother() throws {
        let server = try RedisServerProcess()
        let a = Link(server.url)
        let b = Link(server.url)
        defer {
            a.pubsub.stop()
            b.pubsub.stop()
        }
        #expect(a.started() && b.started())
        a.pubsub.publish("42")
        #expect(b.recorder.wait { $0.messages == ["42"] })
        // Its own message comes back to the publisher too.
        #expect(a.recorder.wait { $0.messages == ["42"] })
        #expect(a.pubsub.statistics.published == 1)
        #expect(b.pubsub.statistics.received == 1)
        #expect(b.log.lines(.info).count == 1 && b.log.lines(.warning).isEmpty)
    }

    @Test func channelsDoNotMix() throws {
        let server = try RedisServerProcess()
        let one = Link(server.url, channel: "backbone-sse:one")
        let two = Link(server.url, channel: "backbone-sse:two")
        defer {
            one.pubsub.stop()
            two.pubsub.stop()
        }
        #expect(one.started() && two.started())
        one.pubsub.publish("for one")
        two.pubsub.publish("for two")
        #expect(one.recorder.wait { $0.messages == ["for one"] })
        #expect(two.recorder.wait { $0.messages == ["for two"] })
        Thread.sleep(forTimeInterval: 0.1)
        #expect(one.recorder.messages == ["for one"] && two.recorder.messages == ["for two"])
    }

    /// Published in bursts faster than round trips: every message arrives or was replaced
    /// by a later one (coalesced), in order, ending with the last.
    @Test func manyMessagesArriveInOrderEndingWithTheLast() throws {
        let server = try RedisServerProcess()
        let a = Link(server.url)
        let b = Link(server.url)
        defer {
            a.pubsub.stop()
            b.pubsub.stop()
        }
        #expect(a.started() && b.started())
        let count = 10_000
        for sequence in 1...count {
            a.pubsub.publish(String(sequence))
            if sequence % 10 == 0 { Thread.sleep(forTimeInterval: 0.000_1) }  // bursts of 10
        }
        #expect(b.recorder.wait { $0.messages.last == String(count) })
        let received = b.recorder.messages.compactMap { Int($0) }
        #expect(received.count > 50)  // enough sent for the order to mean something
        #expect(zip(received, received.dropFirst()).allSatisfy { $0 < $1 })
        let statistics = a.pubsub.statistics
        #expect(statistics.published + statistics.coalesced == count)
        #expect(statistics.publishDrops == 0)
        #expect(b.pubsub.statistics.received == received.count)
        print("\(count) publishes: \(statistics.published) sent, \(statistics.coalesced) coalesced")
    }

    /// One at a time (each waits for the last to arrive): nothing coalesces, nothing is lost.
    @Test func pacedMessagesAllArrive() throws {
        let server = try RedisServerProcess()
        let a = Link(server.url)
        let b = Link(server.url)
        defer {
            a.pubsub.stop()
            b.pubsub.stop()
        }
        #expect(a.started() && b.started())
        var sent: [ContinuousClock.Instant] = []
        for sequence in 1...300 {
            sent.append(.now)
            a.pubsub.publish(String(sequence))
            guard b.recorder.wait(until: { $0.messages.count == sequence }) else { break }
        }
        #expect(b.recorder.messages == (1...300).map(String.init))
        #expect(a.pubsub.statistics.coalesced == 0)
        let latencies = zip(sent, b.recorder.arrivals).map { $1 - $0 }.sorted()
        print("publish→handler on loopback: median \(latencies[latencies.count / 2]), p99 \(latencies[latencies.count * 99 / 100])")
    }

    @Test func authenticates() throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "s3cret pass"])
        var url = server.url
        url.password = "s3cret pass"
        let a = Link(url)
        defer { a.pubsub.stop() }
        #expect(a.started())
        a.pubsub.publish("1")
        #expect(a.recorder.wait { $0.messages == ["1"] })
    }

    /// A wrong password or none: unavailable with a clear reason, logged once however
    /// many retries follow, and no crash.
    @Test(arguments: ["wrong", nil])
    func aRefusedPasswordIsAClearError(password: String?) throws {
        let server = try RedisServerProcess(arguments: ["--requirepass", "s3cret"])
        var url = server.url
        url.password = password
        let publisher = RedisPublisher(url: url, options: quickOptions)
        let log = CapturedLog()
        let link = RedisPubSub(url: url, channel: "c", options: quickOptions, logger: log.logger, onMessage: { _ in })
        defer {
            publisher.stop()
            link.stop()
        }
        publisher.start()
        link.start()
        #expect(eventually { publisher.lastError != nil })
        guard case .authentication(let reason) = publisher.lastError else {
            Issue.record("expected an authentication error, got \(String(describing: publisher.lastError))")
            return
        }
        #expect(reason.contains(password == nil ? "NOAUTH" : "WRONGPASS"))
        Thread.sleep(forTimeInterval: 0.5)  // several retries
        #expect(!link.isAvailable)
        #expect(log.lines(.warning).count == 1)
        #expect(log.lines(.warning).first?.contains("authentication failed") == true)
        #expect(log.lines(.warning).allSatisfy { !$0.contains("s3cret") && !$0.contains("wrong") })
    }

    @Test func selectsTheDatabase() throws {
        let server = try RedisServerProcess()
        var url = server.url
        url.database = 3
        let a = Link(url)
        defer { a.pubsub.stop() }
        #expect(a.started())
        a.pubsub.publish("1")
        #expect(a.recorder.wait { $0.messages == ["1"] })

        url.database = 99
        let publisher = RedisPublisher(url: url, options: quickOptions)
        defer { publisher.stop() }
        publisher.start()
        #expect(eventually { publisher.lastError != nil })
        #expect(publisher.lastError == .server("ERR DB index is out of range"))
    }

    /// Nothing listening: start returns at once, the link reports unavailable, publishes
    /// are dropped and counted.
    @Test func anUnreachableRedisIsNoHang() throws {
        let port = try RedisServerProcess.freePort()
        let a = Link(RedisURL(host: "127.0.0.1", port: port))
        let started = ContinuousClock.now
        a.pubsub.start()
        #expect(ContinuousClock.now - started < .milliseconds(200))
        #expect(a.recorder.wait { $0.availability == [false] })
        a.pubsub.publish("lost")
        #expect(a.pubsub.statistics.publishDrops == 1)
        #expect(a.log.lines(.warning).count == 1 && a.log.lines(.warning)[0].contains("cannot connect"))
        let stopping = ContinuousClock.now
        a.pubsub.stop()
        a.pubsub.stop()
        #expect(ContinuousClock.now - stopping < .milliseconds(500))
    }

    @Test func stopBeforeStartAndTwice() throws {
        let a = Link(RedisURL(host: "127.0.0.1", port: 1))
        a.pubsub.stop()
        a.pubsub.start()  // after stop: stays stopped
        a.pubsub.stop()
        #expect(!a.pubsub.isAvailable)
        a.pubsub.publish("after stop")
        #expect(a.pubsub.statistics.publishDrops == 1)
    }
}
