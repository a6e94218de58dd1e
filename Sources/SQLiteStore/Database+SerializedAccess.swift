import GRDB

extension Database {
    /// Traps, in debug builds, unless the caller is inside this connection's serialized
    /// access (`DatabaseQueue.inDatabase`, a pool's `read` or `write…`). GRDB checks this
    /// in every method of its own (its `SchedulingWatchdog`, a dispatch-queue specific),
    /// but cannot see what is done beside it: `sqlite3_*` calls on its statements
    /// (`HotStatements`) and state kept next to a connection (`ThreadReaders.Reader`).
    /// `totalChangesCount` is the cheapest public member that runs GRDB's check first.
    /// An `assert`: release builds do not evaluate it, so the hot paths pay nothing.
    func assertSerializedAccess() {
        assert(totalChangesCount >= 0)
    }
}
