import Foundation
@testable import MetaLog

/// The real file system with injectable failures: failed writes, fsyncs and renames, and ENOSPC once a
/// byte budget (written bytes plus preallocated growth) is used up.
final class FaultyFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let real = PosixFileSystem()
    var base: any FileSystem { real }
    private let lock = NSLock()
    private var _failWrites: Int32?
    private var _failSyncs: Int32?
    private var _failRenames: Int32?
    private var _spaceLeft: Int?
    private var _syncCount = 0
    private var _syncDelay = 0
    private var _writeCount = 0

    /// Every pwrite fails with this errno while set.
    var failWrites: Int32? { get { lock.withLock { _failWrites } } set { lock.withLock { _failWrites = newValue } } }
    /// Every fsync/fdatasync (files and directories) fails with this errno while set.
    var failSyncs: Int32? { get { lock.withLock { _failSyncs } } set { lock.withLock { _failSyncs = newValue } } }
    /// Every rename fails with this errno while set.
    var failRenames: Int32? { get { lock.withLock { _failRenames } } set { lock.withLock { _failRenames = newValue } } }
    /// Bytes that can still be written or preallocated before ENOSPC (nil: unlimited).
    var spaceLeft: Int? { get { lock.withLock { _spaceLeft } } set { lock.withLock { _spaceLeft = newValue } } }
    var syncCount: Int { lock.withLock { _syncCount } }
    /// Each fsync/fdatasync sleeps this long first (a slow disk), so concurrent appenders overlap.
    var syncDelayMicroseconds: Int { get { lock.withLock { _syncDelay } } set { lock.withLock { _syncDelay = newValue } } }
    var writeCount: Int { lock.withLock { _writeCount } }


    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        lock.lock()
        _writeCount += 1
        if let code = _failWrites {
            lock.unlock()
            throw FileSystemError(operation: "write", path: path, errno: code)
        }
        var allowed = bytes.count
        if let left = _spaceLeft {
            allowed = min(allowed, left)
            _spaceLeft = left - allowed
        }
        lock.unlock()
        if allowed > 0 {
            try real.pwrite(fd, UnsafeRawBufferPointer(rebasing: bytes[0..<allowed]), at: offset, path: path)
        }
        if allowed < bytes.count { throw FileSystemError(operation: "write", path: path, errno: ENOSPC) }
    }


    private func checkSync(_ path: String, _ operation: String) throws(FileSystemError) {
        let delay = syncDelayMicroseconds
        if delay > 0 { usleep(UInt32(delay)) }
        lock.lock()
        defer { lock.unlock() }
        _syncCount += 1
        if let code = _failSyncs { throw FileSystemError(operation: operation, path: path, errno: code) }
    }

    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) {
        try checkSync(path, "fdatasync")
        try real.fdatasync(fd, path: path)
    }
    func fsync(_ fd: Int32, path: String) throws(FileSystemError) {
        try checkSync(path, "fsync")
        try real.fsync(fd, path: path)
    }
    func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError) {
        let size = try real.fileSize(fd, path: path)
        let growth = Int(max(0, offset + length - size))
        lock.lock()
        if let left = _spaceLeft {
            if growth > left {
                lock.unlock()
                throw FileSystemError(operation: "fallocate", path: path, errno: ENOSPC)
            }
            _spaceLeft = left - growth
        }
        lock.unlock()
        try real.preallocate(fd, offset: offset, length: length, path: path)
    }
    func rename(_ from: String, _ to: String) throws(FileSystemError) {
        if let code = failRenames { throw FileSystemError(operation: "rename", path: from, errno: code) }
        try real.rename(from, to)
    }
    func syncDirectory(_ path: String) throws(FileSystemError) {
        try checkSync(path, "fsync directory")
        try real.syncDirectory(path)
    }
}
