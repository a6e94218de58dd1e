import Foundation
import Synchronization

/// A few threads of the store's own for blocking driver calls, so that a write never
/// blocks the caller's thread nor Swift's cooperative pool. Jobs run first in, first
/// out; the threads live as long as the process.
final class BlockingWorkers: Sendable {
    typealias Job = @Sendable () -> Void

    private let jobs = Mutex<[Job]>([])
    private let available = DispatchSemaphore(value: 0)

    init(count: Int, name: String) {
        for i in 0..<count {
            let thread = Thread { [self] in run() }
            thread.name = "\(name)-\(i)"
            thread.start()
        }
    }

    func submit(_ job: @escaping Job) {
        jobs.withLock { $0.append(job) }
        available.signal()
    }

    private func run() {
        while true {
            available.wait()
            let job = jobs.withLock { $0.isEmpty ? nil : $0.removeFirst() }
            job?()
        }
    }
}
