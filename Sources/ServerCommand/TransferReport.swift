import DataTransfer

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

    static func newEpoch(_ command: String, _ epoch: String) {
        CommandLog.say(
            "\(command): the store's epoch is now \(epoch): every client's cursor resets (event: reset) and the client refetches")
    }
}
