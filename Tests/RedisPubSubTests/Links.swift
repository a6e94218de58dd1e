import Foundation
import Logging
import TestSupport

@testable import RedisPubSub

/// Short bounds, so that outages and retries fit in a test's seconds.
let quickOptions: RedisOptions = {
    var options = RedisOptions()
    options.idlePing = .milliseconds(200)
    options.commandTimeout = .milliseconds(300)
    options.initialBackoff = .milliseconds(50)
    options.maximumBackoff = .milliseconds(400)
    return options
}()

/// One instance's link with what it receives and reports recorded.
struct Link {
    let pubsub: RedisPubSub
    let recorder: Recorder
    let log: CapturedLog

    init(_ url: RedisURL, channel: String = "backbone-sse:test", options: RedisOptions = quickOptions) {
        let recorder = Recorder()
        let log = CapturedLog()
        pubsub = RedisPubSub(
            url: url, channel: channel, options: options, logger: log.logger,
            onAvailabilityChange: { recorder.available($0) }, onMessage: { recorder.message($0) })
        self.recorder = recorder
        self.log = log
    }

    /// Starts the link and waits until both connections are up.
    func started() -> Bool {
        pubsub.start()
        return recorder.wait { $0.availability.last == true }
    }
}

extension RedisServerProcess {
    var url: RedisURL { RedisURL(host: "127.0.0.1", port: port) }
}
