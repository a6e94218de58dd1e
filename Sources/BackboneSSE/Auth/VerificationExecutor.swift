import Dispatch

/// Where token verification runs: jwt-kit's API is async (its key collection is an
/// actor), and the cooperative pool is not ours to count on (two threads here, which
/// anything blocking can hold). A task that prefers this executor runs, default actors
/// included (SE-0417), on a concurrent dispatch queue of its own, so a request waiting
/// for its token's check never waits for the pool.
final class VerificationExecutor: TaskExecutor {
    static let shared = VerificationExecutor()

    private let queue = DispatchQueue(label: "backbone-sse.token-verification", attributes: .concurrent)

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
