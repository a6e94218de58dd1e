import DocumentStore

extension StreamFanOut {
    /// Replays the log after the subscriber's position, paced by its reader: it fills
    /// half the stream's buffer, waits for it to drain, goes on. A backlog larger than
    /// the buffer thus reaches a reader that keeps up, instead of overflowing it. When
    /// the replay reaches the dispatched head, the subscriber goes live.
    func replay(_ subscriber: Subscriber) {
        guard subscribers[subscriber.number] != nil else { return }
        let highWater = max(1, options.bufferBytes / 2)
        var replayed = 0
        defer { if replayed > 0 { metrics.eventsReplayed(replayed) } }
        while subscriber.position < dispatched {
            if subscriber.stream.pendingCount >= highWater {
                return resumeReplay(subscriber, whenDrainedTo: highWater / 2)
            }
            let batch: [Change]
            do { batch = try store.changes(after: subscriber.position, limit: 200) } catch {
                logger.error("replay failed", metadata: ["error": "\(error)"])
                subscriber.stream.abort()
                remove(subscriber.number)
                return
            }
            // Pruning runs beside the replay: if it took entries the subscriber has not
            // had, the batch starts after a gap (or is empty). Checked after the read, so
            // a prune that came before it shows; the client is told to refetch, as for
            // a cursor that was too old from the start.
            if let bounds = try? store.logBounds(), !bounds.canResume(after: subscriber.position) {
                return endWithReset(subscriber, reason: "expired")
            }
            guard !batch.isEmpty else { break }
            for change in batch where change.sequence <= dispatched {
                if let frame = subscriber.subscription.frame(for: ChangeFrames(change, epoch: epoch)) {
                    switch subscriber.stream.write(frame) {
                    case .overflow:
                        // Larger than the room left: wait for an empty buffer, which
                        // takes a message of any size.
                        return resumeReplay(subscriber, whenDrainedTo: 0)
                    case .closed:
                        remove(subscriber.number)
                        return
                    case .none, .resume:
                        replayed += 1
                    }
                }
                subscriber.position = change.sequence
                if subscriber.stream.pendingCount >= highWater { break }
            }
            if batch.last!.sequence >= dispatched && subscriber.position >= batch.last!.sequence { break }
        }
        subscriber.position = max(subscriber.position, dispatched)
        subscriber.catchingUp = false
    }

    private func resumeReplay(_ subscriber: Subscriber, whenDrainedTo mark: Int) {
        let number = subscriber.number
        subscriber.stream.whenDrained(to: mark) { [weak self] in
            self?.enqueue { fanOut in
                // Gone meanwhile (closed, overflowed): nothing to resume.
                if let subscriber = fanOut.subscribers[number] { fanOut.replay(subscriber) }
            }
        }
    }
}
