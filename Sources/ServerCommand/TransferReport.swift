import DataTransfer
import DocumentStore

/// What `import` and `copy` say at their end.
enum TransferReport {
    /// Lists the failures; throws (nothing written) when there are any and they are
    /// not to be skipped.
    static func failures(_ staging: ImportStaging, skipInvalid: Bool, unit: String) throws {
        guard staging.failureCount > 0 else { return }
        for failure in staging.failures { CommandLog.say("\(unit) \(failure.line): \(failure.message)") }
        if staging.failureCount > staging.failures.count {
            CommandLog.say("… and \(staging.failureCount - staging.failures.count) more")
        }
        guard skipInvalid else {
            throw CommandFailure.failed(
                "\(staging.failureCount) \(unit)s failed the checks; nothing was written (--skip-invalid imports the \(staging.accepted) others)"
            )
        }
        CommandLog.say("skipping \(staging.failureCount) \(unit)s that failed the checks (--skip-invalid)")
    }

    /// The end of `import` and `copy`: the failures listed (and nothing written unless
    /// they are skipped), then what passed written in one step under a new epoch.
    /// `verb`: the command; `done`: what its progress says at the end.
    static func commit(
        _ staging: ImportStaging, into target: any BulkTransfer, skipInvalid: Bool, unit: String, verb: String, done: String
    ) throws {
        try failures(staging, skipInvalid: skipInvalid, unit: unit)
        guard staging.accepted > 0 else {
            CommandLog.say("\(verb): no document to write; the store is unchanged (its epoch too)")
            return
        }
        let writing = ProgressReporter(label: verb, total: staging.accepted)
        let epoch = try Importer.commit(staging, into: target, progress: writing)
        writing.finish(done)
        newEpoch(verb, epoch)
    }

    static func newEpoch(_ command: String, _ epoch: String) {
        CommandLog.say(
            "\(command): the store's epoch is now \(epoch): every client's cursor resets (event: reset) and the client refetches")
    }
}
