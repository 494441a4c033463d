import Foundation
@testable import MetaLog

/// One state-changing file-system operation, as the power-loss model needs it: files are inodes (a file
/// keeps its identity across renames), names live in directories.
enum RecordedOp {
    case create(path: String, inode: Int)
    case mkdir(path: String)
    case write(inode: Int, offset: Int, bytes: [UInt8])
    case truncate(inode: Int, size: Int)
    /// fallocate: the file grows to at least `end` (zeros), nothing else changes.
    case preallocate(inode: Int, end: Int)
    /// fsync or fdatasync of a file: its data and size become durable.
    case fsync(inode: Int)
    case rename(from: String, to: String)
    case unlink(path: String)
    /// fsync of a directory: its entries (create, rename, unlink, mkdir inside it) become durable.
    case syncDirectory(path: String)
    /// A test event (an operation issued or acknowledged), by number.
    case mark(Int)

    var isSync: Bool {
        switch self {
        case .fsync, .syncDirectory: return true
        default: return false
        }
    }
}

/// The real file system, recording every state-changing call in order (thread-safe). Used to replay a
/// run into the crash states a strict POSIX power-loss model allows (`CrashStates`).
final class RecordingFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let real = PosixFileSystem()
    var base: any FileSystem { real }
    private let lock = NSLock()
    private var ops: [RecordedOp] = []
    private var names: [String: Int] = [:]  // the current (volatile) namespace
    private var inodeOfFD: [Int32: Int] = [:]
    private var nextInode = 1
    /// Syncs to leave out (by their order among recorded syncs): a test proves each one matters.
    var skipSyncNumbers: Set<Int> = []
    private var syncNumber = 0
    /// Bytes writes may still add before ENOSPC (nil: unlimited); a write that does not fit is partial.
    var spaceLeft: Int? {
        get { lock.withLock { _spaceLeft } }
        set { lock.withLock { _spaceLeft = newValue } }
    }
    private var _spaceLeft: Int?

    /// Every recorded operation so far.
    var recorded: [RecordedOp] { lock.withLock { ops } }

    func mark(_ event: Int) { lock.withLock { ops.append(.mark(event)) } }

    /// Starts from files that already exist (a materialized crash state): their names and inodes.
    /// New files get inodes from `firstNewInode` on (when given), so that they cannot collide with
    /// inodes a model still holds for files that were unlinked.
    func adopt(_ existing: [String: Int], firstNewInode: Int? = nil) {
        lock.withLock {
            names = existing
            nextInode = max(firstNewInode ?? 0, (existing.values.max() ?? 0) + 1)
        }
    }

    private func inode(_ fd: Int32) -> Int { inodeOfFD[fd] ?? -1 }

    /// Whether this sync is to be skipped (deleted from the code under test, as it were).
    private func skipSync() -> Bool {
        let number = syncNumber
        syncNumber += 1
        return skipSyncNumbers.contains(number)
    }

    func open(_ path: String, create: Bool, readOnly: Bool) throws(FileSystemError) -> Int32 {
        lock.lock()
        defer { lock.unlock() }
        let existed = names[path] != nil || FileManager.default.fileExists(atPath: path)
        let fd = try real.open(path, create: create, readOnly: readOnly)
        if names[path] == nil {
            let inode = nextInode
            nextInode += 1
            names[path] = inode
            if !existed { ops.append(.create(path: path, inode: inode)) }
        }
        inodeOfFD[fd] = names[path]
        return fd
    }

    func close(_ fd: Int32) {
        lock.withLock { _ = inodeOfFD.removeValue(forKey: fd) }
        real.close(fd)
    }

    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        // Out of space: the part that fits is written (and recorded), then ENOSPC.
        let allowed = lock.withLock { () -> Int in
            guard let left = _spaceLeft else { return bytes.count }
            _spaceLeft = max(0, left - bytes.count)
            return min(left, bytes.count)
        }
        let written = UnsafeRawBufferPointer(rebasing: bytes[0..<allowed])
        if allowed > 0 {
            try real.pwrite(fd, written, at: offset, path: path)
            lock.withLock { ops.append(.write(inode: inode(fd), offset: Int(offset), bytes: [UInt8](written))) }
        }
        if allowed < bytes.count { throw FileSystemError(operation: "write", path: path, errno: ENOSPC) }
    }


    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) {
        try real.fdatasync(fd, path: path)
        lock.withLock { if !skipSync() { ops.append(.fsync(inode: inode(fd))) } }
    }

    func fsync(_ fd: Int32, path: String) throws(FileSystemError) {
        try real.fsync(fd, path: path)
        lock.withLock { if !skipSync() { ops.append(.fsync(inode: inode(fd))) } }
    }

    func ftruncate(_ fd: Int32, size: Int64, path: String) throws(FileSystemError) {
        try real.ftruncate(fd, size: size, path: path)
        lock.withLock { ops.append(.truncate(inode: inode(fd), size: Int(size))) }
    }

    func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError) {
        try real.preallocate(fd, offset: offset, length: length, path: path)
        lock.withLock { ops.append(.preallocate(inode: inode(fd), end: Int(offset + length))) }
    }


    func rename(_ from: String, _ to: String) throws(FileSystemError) {
        try real.rename(from, to)
        lock.withLock {
            names[to] = names.removeValue(forKey: from)
            ops.append(.rename(from: from, to: to))
        }
    }

    func unlink(_ path: String) throws(FileSystemError) {
        try real.unlink(path)
        lock.withLock {
            if names.removeValue(forKey: path) != nil { ops.append(.unlink(path: path)) }
        }
    }

    func makeDirectory(_ path: String) throws(FileSystemError) {
        let existed = FileManager.default.fileExists(atPath: path)
        try real.makeDirectory(path)
        if !existed { lock.withLock { ops.append(.mkdir(path: path)) } }
    }


    func syncDirectory(_ path: String) throws(FileSystemError) {
        try real.syncDirectory(path)
        lock.withLock { if !skipSync() { ops.append(.syncDirectory(path: path)) } }
    }

    func lockFile(_ path: String) throws(FileSystemError) -> Int32? {
        // The lock file holds nothing; its creation is not part of the model.
        try real.lockFile(path)
    }
}
