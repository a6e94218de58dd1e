import Foundation

/// Standard output, or a file written as `FILE.partial` and renamed when whole.
struct ExportTarget {
    let fd: Int32
    private let path: String?

    init(_ path: String?) throws {
        self.path = path
        guard let path else {
            fd = 1
            return
        }
        fd = open(path + ".partial", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw CommandFailure.failed("--file \(path): \(String(cString: strerror(errno)))") }
    }

    func commit() throws {
        guard let path else { return }
        guard fsync(fd) == 0, close(fd) == 0, rename(path + ".partial", path) == 0 else {
            throw CommandFailure.failed("--file \(path): \(String(cString: strerror(errno)))")
        }
    }
}

/// Standard input, or a file; its size when it is a regular file (for the ETA).
struct ImportSource {
    let fd: Int32
    let size: Int?

    init(_ path: String?) throws {
        if let path {
            fd = open(path, O_RDONLY)
            guard fd >= 0 else { throw CommandFailure.usage("--file \(path): \(String(cString: strerror(errno)))") }
        } else {
            fd = 0
        }
        var info = stat()
        size = fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG && info.st_size > 0 ? Int(info.st_size) : nil
    }
}
