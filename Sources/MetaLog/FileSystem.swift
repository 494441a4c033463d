import CMetaLogSys
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which one, on which path, and errno.
package struct FileSystemError: Error, Equatable {
    package var operation: String
    package var path: String
    package var errno: Int32

    package init(operation: String, path: String, errno: Int32) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }
}

/// The file-system calls MetaLog makes, as a seam: the real implementation is `PosixFileSystem`; tests
/// wrap it to inject failures (failed writes, fsyncs, renames, ENOSPC). Files are plain descriptors.
package protocol FileSystem: Sendable {
    /// Opens `path` read-write (creating it when `create`), returns the descriptor.
    func open(_ path: String, create: Bool, readOnly: Bool) throws(FileSystemError) -> Int32
    func close(_ fd: Int32)
    /// Writes all of `bytes` at `offset` (looping over short writes).
    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError)
    /// Reads up to `buffer.count` bytes at `offset`; returns how many were read (short only at end of file).
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) -> Int
    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError)
    func fsync(_ fd: Int32, path: String) throws(FileSystemError)
    func ftruncate(_ fd: Int32, size: Int64, path: String) throws(FileSystemError)
    /// Reserves blocks for [offset, offset+length) and grows the file to cover it.
    func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError)
    func fileSize(_ fd: Int32, path: String) throws(FileSystemError) -> Int64
    func rename(_ from: String, _ to: String) throws(FileSystemError)
    func unlink(_ path: String) throws(FileSystemError)
    func makeDirectory(_ path: String) throws(FileSystemError)
    func listDirectory(_ path: String) throws(FileSystemError) -> [String]
    func syncDirectory(_ path: String) throws(FileSystemError)
    /// Maps `length` bytes of `fd` read-only and shared.
    func map(_ fd: Int32, length: Int, path: String) throws(FileSystemError) -> UnsafeRawPointer
    func unmap(_ address: UnsafeRawPointer, length: Int)
    /// The first offset >= `offset` holding data (SEEK_DATA), or nil when only holes follow or the call
    /// is not supported.
    func nextData(_ fd: Int32, from offset: Int64) -> Int64?
    /// The first hole at or after `offset` (SEEK_HOLE); the file size when not supported.
    func nextHole(_ fd: Int32, from offset: Int64) -> Int64?
    /// Starts write-back of [offset, offset+length) without waiting (a hint; errors surface at the next
    /// fdatasync).
    func startWriteback(_ fd: Int32, offset: Int64, length: Int64)
    /// Takes an exclusive, non-blocking flock on `path` (created if missing); returns the descriptor
    /// holding it, or nil if someone else holds it.
    func lockFile(_ path: String) throws(FileSystemError) -> Int32?
}

/// A seam that passes every call it does not implement itself to `base`: a wrapper (a test's recorder,
/// fault injector or barrier) implements only the calls it intercepts. Cost: one existential call per
/// forwarded operation.
package protocol ForwardingFileSystem: FileSystem {
    /// Where calls not implemented by the wrapper go.
    var base: any FileSystem { get }
}

extension ForwardingFileSystem {
    package func open(_ path: String, create: Bool, readOnly: Bool) throws(FileSystemError) -> Int32 {
        try base.open(path, create: create, readOnly: readOnly)
    }
    package func close(_ fd: Int32) { base.close(fd) }
    package func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        try base.pwrite(fd, bytes, at: offset, path: path)
    }
    package func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) -> Int {
        try base.pread(fd, buffer, at: offset, path: path)
    }
    package func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) { try base.fdatasync(fd, path: path) }
    package func fsync(_ fd: Int32, path: String) throws(FileSystemError) { try base.fsync(fd, path: path) }
    package func ftruncate(_ fd: Int32, size: Int64, path: String) throws(FileSystemError) {
        try base.ftruncate(fd, size: size, path: path)
    }
    package func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError) {
        try base.preallocate(fd, offset: offset, length: length, path: path)
    }
    package func fileSize(_ fd: Int32, path: String) throws(FileSystemError) -> Int64 { try base.fileSize(fd, path: path) }
    package func rename(_ from: String, _ to: String) throws(FileSystemError) { try base.rename(from, to) }
    package func unlink(_ path: String) throws(FileSystemError) { try base.unlink(path) }
    package func makeDirectory(_ path: String) throws(FileSystemError) { try base.makeDirectory(path) }
    package func listDirectory(_ path: String) throws(FileSystemError) -> [String] { try base.listDirectory(path) }
    package func syncDirectory(_ path: String) throws(FileSystemError) { try base.syncDirectory(path) }
    package func map(_ fd: Int32, length: Int, path: String) throws(FileSystemError) -> UnsafeRawPointer {
        try base.map(fd, length: length, path: path)
    }
    package func unmap(_ address: UnsafeRawPointer, length: Int) { base.unmap(address, length: length) }
    package func nextData(_ fd: Int32, from offset: Int64) -> Int64? { base.nextData(fd, from: offset) }
    package func nextHole(_ fd: Int32, from offset: Int64) -> Int64? { base.nextHole(fd, from: offset) }
    package func startWriteback(_ fd: Int32, offset: Int64, length: Int64) {
        base.startWriteback(fd, offset: offset, length: length)
    }
    package func lockFile(_ path: String) throws(FileSystemError) -> Int32? { try base.lockFile(path) }
}

/// The real file system (POSIX calls).
package struct PosixFileSystem: FileSystem {
    package init() {}

    package func open(_ path: String, create: Bool, readOnly: Bool) throws(FileSystemError) -> Int32 {
        var flags: Int32 = readOnly ? O_RDONLY : O_RDWR
        flags |= O_CLOEXEC
        if create { flags |= O_CREAT }
        let fd = Glibc.open(path, flags, 0o644)
        if fd < 0 { throw FileSystemError(operation: "open", path: path, errno: errno) }
        return fd
    }

    package func close(_ fd: Int32) { _ = Glibc.close(fd) }

    package func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let n = Glibc.pwrite(fd, base + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "write", path: path, errno: errno)
            }
            if n == 0 { throw FileSystemError(operation: "write", path: path, errno: EIO) }
            done += n
        }
    }

    package func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) -> Int {
        guard let base = buffer.baseAddress else { return 0 }
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(fd, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileSystemError(operation: "read", path: path, errno: errno)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    package func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) {
        if Glibc.fdatasync(fd) != 0 { throw FileSystemError(operation: "fdatasync", path: path, errno: errno) }
    }

    package func fsync(_ fd: Int32, path: String) throws(FileSystemError) {
        if Glibc.fsync(fd) != 0 { throw FileSystemError(operation: "fsync", path: path, errno: errno) }
    }

    package func ftruncate(_ fd: Int32, size: Int64, path: String) throws(FileSystemError) {
        if Glibc.ftruncate(fd, off_t(size)) != 0 { throw FileSystemError(operation: "ftruncate", path: path, errno: errno) }
    }

    package func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError) {
        let code = posix_fallocate(fd, off_t(offset), off_t(length))
        if code == 0 { return }
        if code == EOPNOTSUPP || code == ENOSYS {
            // No fallocate on this file system: grow the file (sparse) instead.
            let size = try fileSize(fd, path: path)
            if size < offset + length { try ftruncate(fd, size: offset + length, path: path) }
            return
        }
        throw FileSystemError(operation: "fallocate", path: path, errno: code)
    }

    package func fileSize(_ fd: Int32, path: String) throws(FileSystemError) -> Int64 {
        var info = stat()
        if fstat(fd, &info) != 0 { throw FileSystemError(operation: "fstat", path: path, errno: errno) }
        return Int64(info.st_size)
    }

    package func rename(_ from: String, _ to: String) throws(FileSystemError) {
        if Glibc.rename(from, to) != 0 { throw FileSystemError(operation: "rename", path: from, errno: errno) }
    }

    package func unlink(_ path: String) throws(FileSystemError) {
        if Glibc.unlink(path) != 0 && errno != ENOENT {
            throw FileSystemError(operation: "unlink", path: path, errno: errno)
        }
    }

    package func makeDirectory(_ path: String) throws(FileSystemError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw FileSystemError(operation: "mkdir", path: path, errno: errno)
        }
    }

    package func listDirectory(_ path: String) throws(FileSystemError) -> [String] {
        guard let dir = opendir(path) else { throw FileSystemError(operation: "opendir", path: path, errno: errno) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    package func syncDirectory(_ path: String) throws(FileSystemError) {
        let fd = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw FileSystemError(operation: "open directory", path: path, errno: errno) }
        defer { _ = Glibc.close(fd) }
        if Glibc.fsync(fd) != 0 { throw FileSystemError(operation: "fsync directory", path: path, errno: errno) }
    }

    package func map(_ fd: Int32, length: Int, path: String) throws(FileSystemError) -> UnsafeRawPointer {
        let address = mmap(nil, max(length, 1), PROT_READ, MAP_SHARED, fd, 0)
        if address == MAP_FAILED || address == nil {
            throw FileSystemError(operation: "mmap", path: path, errno: errno)
        }
        return UnsafeRawPointer(address!)
    }

    package func unmap(_ address: UnsafeRawPointer, length: Int) {
        _ = munmap(UnsafeMutableRawPointer(mutating: address), max(length, 1))
    }

    package func nextData(_ fd: Int32, from offset: Int64) -> Int64? {
        let result = lseek(fd, off_t(offset), 3 /* SEEK_DATA on Linux */)
        if result < 0 { return errno == ENXIO ? nil : offset }
        return Int64(result)
    }

    package func nextHole(_ fd: Int32, from offset: Int64) -> Int64? {
        let result = lseek(fd, off_t(offset), 4 /* SEEK_HOLE on Linux */)
        return result < 0 ? nil : Int64(result)
    }

    package func startWriteback(_ fd: Int32, offset: Int64, length: Int64) {
        _ = metalog_start_writeback(fd, offset, length)
    }

    package func lockFile(_ path: String) throws(FileSystemError) -> Int32? {
        let fd = try open(path, create: true, readOnly: false)
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            Glibc.close(fd)
            if code == EWOULDBLOCK { return nil }
            throw FileSystemError(operation: "flock", path: path, errno: code)
        }
        return fd
    }
}

extension FileSystemError {
    /// `error` as a FileSystemError (errors from the seam always are; anything else becomes EIO).
    static func from(_ error: any Error, path: String) -> FileSystemError {
        (error as? FileSystemError) ?? FileSystemError(operation: "\(error)", path: path, errno: EIO)
    }
}

extension FileSystem {
    /// Writes all of `bytes` at `offset`.
    func pwrite(_ fd: Int32, _ bytes: [UInt8], at offset: Int64, path: String) throws(FileSystemError) {
        do {
            try bytes.withUnsafeBytes { raw in try pwrite(fd, raw, at: offset, path: path) }
        } catch {
            throw FileSystemError.from(error, path: path)
        }
    }
}
