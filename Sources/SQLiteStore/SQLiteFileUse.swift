import Glibc

/// Whether another process has a SQLite store file open, seen from outside it. In WAL
/// mode every connection holds a shared lock on one byte of the `-shm` file (SQLite's
/// "dead man switch", byte 128 in the unix VFS) for as long as it is open; asking
/// `fcntl(F_GETLK)` for a write lock there names a holder, if any. Locks of this
/// process do not count (POSIX locks never conflict within a process), so ask before
/// opening the file here.
public enum SQLiteFileUse {
    /// The pid of a process that has the store at `path` open, or nil.
    public static func holder(of path: String) -> Int32? {
        let fd = open(path + "-shm", O_RDONLY)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 128
        lock.l_len = 1
        guard fcntl(fd, F_GETLK, &lock) == 0, lock.l_type != Int16(F_UNLCK) else { return nil }
        return lock.l_pid
    }
}
