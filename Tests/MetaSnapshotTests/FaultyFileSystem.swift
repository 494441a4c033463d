import SystemPackage

@testable import MetaSnapshot

/// A file-system seam that behaves like the real one until operation number `failAt` (counting from 0), which
/// fails with EIO; a failing write first writes half of its bytes (a torn write). From then on every operation
/// fails, as if the process had died at that moment.
final class FaultyFileSystem: SnapshotFileSystem {
    private let real = PosixSnapshotFileSystem()
    let failAt: Int
    private(set) var operations = 0
    private(set) var crashed = false
    /// Operation names in call order, e.g. "write", "fsync", "rename", "fsync dir".
    private(set) var log: [String] = []
    /// The directories fsynced, in call order.
    private(set) var syncedDirectories: [FilePath] = []

    init(failAt: Int = .max) { self.failAt = failAt }

    private func step(_ name: String, _ path: FilePath) throws {
        log.append(name)
        defer { operations += 1 }
        if crashed || operations == failAt {
            crashed = true
            throw SnapshotError.io(path: path.string, operation: "injected \(name)", errno: 5)
        }
    }

    func create(_ path: FilePath) throws -> FileDescriptor {
        try step("create", path)
        return try real.create(path)
    }

    func openForAppend(_ path: FilePath) throws -> FileDescriptor {
        try step("open", path)
        return try real.openForAppend(path)
    }

    func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: FilePath) throws {
        if !crashed && operations == failAt && bytes.count > 1 {
            try real.write(fd, UnsafeRawBufferPointer(rebasing: bytes[..<(bytes.count / 2)]), path: path)
        }
        try step("write", path)
        try real.write(fd, bytes, path: path)
    }

    func sync(_ fd: FileDescriptor, path: FilePath) throws {
        try step("fsync", path)
        try real.sync(fd, path: path)
    }

    func close(_ fd: FileDescriptor) { real.close(fd) }

    func rename(_ from: FilePath, to: FilePath) throws {
        try step("rename", from)
        try real.rename(from, to: to)
    }

    func syncDirectory(_ directory: FilePath) throws {
        syncedDirectories.append(directory)
        try step("fsync dir", directory)
        try real.syncDirectory(directory)
    }

    func remove(_ path: FilePath) throws {
        try step("unlink", path)
        try real.remove(path)
    }
}
