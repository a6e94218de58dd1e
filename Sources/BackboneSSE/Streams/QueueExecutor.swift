import Dispatch

/// A serial executor that runs its jobs on a dispatch queue, so that an actor's state
/// can be reached both from Swift tasks and, through `assumeIsolated`, from work
/// submitted to the queue directly (`queue.async`) by code that is not async: C
/// callbacks, timers, a store's writer threads. The compiler then checks every access to
/// the state; the runtime checks (`checkIsolated`) that such work really is on the queue.
///
/// (Foundation on Linux has no `DispatchSerialQueue`, which is this on Apple platforms.)
final class QueueExecutor: SerialExecutor {
    let queue: DispatchQueue

    init(_ queue: DispatchQueue) {
        self.queue = queue
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedSerialExecutor()) }
    }

    func checkIsolated() {
        dispatchPrecondition(condition: .onQueue(queue))
    }
}
