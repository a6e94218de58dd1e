import Dispatch
import Foundation
import Synchronization

extension ResponseStream {
    /// Below this many writes one thread sends them all: spreading them costs more than
    /// it saves.
    static let spreadThreshold = 256

    /// Writes each frame to its stream (as `write`), and returns, by index, the writes
    /// whose action was not `.none`. Many writes are spread over the cores: a handed-off
    /// stream's write is a `sendmsg`, and on loopback or a fast link the kernel's whole
    /// TCP path runs inside it, so one thread sending one event to thousands of streams
    /// is bound by that path. Each stream gets its bytes from one thread, and the call
    /// returns only once every write is done, so a caller that writes events one call
    /// after another keeps each stream's events in order.
    public static func write(_ writes: [(stream: ResponseStream, bytes: [UInt8])]) -> [(index: Int, action: StreamState.WriteAction)] {
        let ways = min(ProcessInfo.processInfo.activeProcessorCount, writes.count / spreadThreshold)
        guard ways > 1 else { return writeSlice(writes, 0..<writes.count) }
        let outcomes = Mutex<[(index: Int, action: StreamState.WriteAction)]>([])
        DispatchQueue.concurrentPerform(iterations: ways) { part in
            let range = (writes.count * part / ways)..<(writes.count * (part + 1) / ways)
            let slice = writeSlice(writes, range)
            if !slice.isEmpty { outcomes.withLock { $0.append(contentsOf: slice) } }
        }
        return outcomes.withLock { $0 }
    }

    private static func writeSlice(
        _ writes: [(stream: ResponseStream, bytes: [UInt8])], _ range: Range<Int>
    ) -> [(index: Int, action: StreamState.WriteAction)] {
        var outcomes: [(index: Int, action: StreamState.WriteAction)] = []
        for i in range {
            let action = writes[i].stream.write(writes[i].bytes)
            if action != .none { outcomes.append((i, action)) }
        }
        return outcomes
    }
}
