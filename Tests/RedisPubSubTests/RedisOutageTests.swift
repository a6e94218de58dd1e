import Foundation
import Testing

@testable import RedisPubSub

/// Redis killed, restarted, paused: the links notice, say so once, never block a
/// publisher, and recover by themselves.
@Suite(.serialized, .enabled(if: RedisServerProcess.isInstalled, "redis-server is not installed (apt-get install redis-server)"))
struct RedisOutageTests {
    @Test func aKilledRedisIsUnavailableUntilItIsBack() throws {
        let server = try RedisServerProcess()
        let a = Link(server.url)
        let b = Link(server.url)
        defer {
            a.pubsub.stop()
            b.pubsub.stop()
        }
        #expect(a.started() && b.started())

        server.kill()
        #expect(a.recorder.wait { $0.availability.last == false })
        #expect(b.recorder.wait { $0.availability.last == false })
        // Dropped at once if the publisher knows already, else when its PUBLISH fails.
        a.pubsub.publish("while away")
        #expect(eventually { a.pubsub.statistics.publishDrops == 1 })
        Thread.sleep(forTimeInterval: 0.5)  // several retries, one warning

        try server.start()
        #expect(a.recorder.wait { $0.availability.last == true })
        #expect(b.recorder.wait { $0.availability.last == true })
        a.pubsub.publish("back")
        #expect(b.recorder.wait { $0.messages == ["back"] })
        for link in [a, b] {
            #expect(link.recorder.availability == [true, false, true])
            #expect(link.log.lines(.warning).count == 1)
            #expect(link.log.lines(.notice).count == 1)
            #expect(link.pubsub.statistics.reconnects == 2)
        }
    }

    /// SIGSTOP keeps the socket open and answers nothing. With the default bounds: the
    /// publisher, publishing all along, notices within its command timeout; the idle
    /// subscriber within idlePing + commandTimeout. No publish call waits meanwhile.
    @Test func aPausedRedisIsDetectedAndNeverBlocksAPublisher() throws {
        let server = try RedisServerProcess()
        let recorder = Recorder()
        let publisherDown = Recorder()
        let subscriberDown = Recorder()
        let publisher = RedisPublisher(url: server.url) { up, _ in publisherDown.available(up) }
        let subscriber = RedisSubscriber(url: server.url, channel: "c") { up, _ in
            subscriberDown.available(up)
        } handler: {
            recorder.message($0)
        }
        defer {
            publisher.stop()
            subscriber.stop()
        }
        publisher.start()
        subscriber.start()
        #expect(eventually { publisher.isAvailable && subscriber.isAvailable })

        let paused = ContinuousClock.now
        server.pause()
        var publisherDetected: Duration?
        var subscriberDetected: Duration?
        var slowestPublish = Duration.zero
        var sequence = 0
        while ContinuousClock.now - paused < .seconds(4), subscriberDetected == nil || publisherDetected == nil {
            sequence += 1
            let call = ContinuousClock.now
            publisher.publish(String(sequence), to: "c")
            slowestPublish = max(slowestPublish, .now - call)
            if publisherDetected == nil, publisherDown.availability.last == false { publisherDetected = .now - paused }
            if subscriberDetected == nil, subscriberDown.availability.last == false { subscriberDetected = .now - paused }
            Thread.sleep(forTimeInterval: 0.001)
        }
        print(
            "paused Redis detected: publisher after \(publisherDetected.map { "\($0)" } ?? "never"), subscriber after \(subscriberDetected.map { "\($0)" } ?? "never"); slowest publish \(slowestPublish)"
        )
        #expect(publisherDetected.map { $0 < .milliseconds(1500) } == true)
        #expect(subscriberDetected.map { $0 < .milliseconds(2500) } == true)
        // A blocked publish would take the command timeout (1 s); the bound leaves room
        // for a preempted test thread on a busy machine.
        #expect(slowestPublish < .milliseconds(100))
        #expect(publisher.statistics.drops > 0)
        for error in [publisher.lastError, subscriber.lastError] {
            guard case .timeout = error else {
                Issue.record("expected a timeout, got \(String(describing: error))")
                continue
            }
        }

        let resumed = ContinuousClock.now
        server.resume()
        #expect(eventually(timeout: .seconds(8)) { publisher.isAvailable && subscriber.isAvailable })
        print("back after SIGCONT in \(ContinuousClock.now - resumed)")
        let before = recorder.messages.count
        publisher.publish("after", to: "c")
        #expect(recorder.wait { $0.messages.count > before && $0.messages.last == "after" })
    }

    @Test func stopReturnsPromptlyWhileRedisIsPaused() throws {
        let server = try RedisServerProcess()
        let a = Link(server.url, options: RedisOptions())
        #expect(a.started())
        server.pause()
        defer { server.resume() }
        a.pubsub.publish("1")  // the publisher now waits for an answer that does not come
        Thread.sleep(forTimeInterval: 0.3)
        let stopping = ContinuousClock.now
        a.pubsub.stop()
        let took = ContinuousClock.now - stopping
        #expect(took < .milliseconds(200))
        a.pubsub.stop()
        print("stop() with Redis paused took \(took)")
    }
}
