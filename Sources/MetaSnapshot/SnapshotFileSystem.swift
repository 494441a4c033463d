import SystemPackage

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system operations through which snapshots are written, published and removed. The store and the
/// writer call nothing else that changes the disk, so a test can substitute a seam that fails any call (a
/// write, an fsync, a rename) to simulate a crash at that moment.
public protocol SnapshotFileSystem: AnyObject {
    /// Creates `path` exclusively for writing (fails if it exists).
    func create(_ path: FilePath) throws -> FileDescriptor
    /// Opens an existing file for appending (the transfer receiver resumes a partial file this way).
    func openForAppend(_ path: FilePath) throws -> FileDescriptor
    /// Writes all of `bytes` at the file's current position.
    func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: FilePath) throws
    /// Makes the file's data durable (fsync).
    func sync(_ fd: FileDescriptor, path: FilePath) throws
    /// Closes a descriptor obtained from `create` or `openForAppend`.
    func close(_ fd: FileDescriptor)
    /// Atomically renames `from` to `to`, replacing nothing: the store never renames onto an existing name.
    func rename(_ from: FilePath, to: FilePath) throws
    /// Makes a directory's entries durable (fsync on the directory).
    func syncDirectory(_ directory: FilePath) throws
    /// Removes a file.
    func remove(_ path: FilePath) throws
}

/// The real POSIX file system. Every failure becomes `SnapshotError.io` naming the path and the call.
public final class PosixSnapshotFileSystem: SnapshotFileSystem {
    /// Makes the real file system; it holds no state.
    public init() {}

    /// open(O_CREAT|O_EXCL), mode 0644.
    public func create(_ path: FilePath) throws -> FileDescriptor {
        try io(path, "open") {
            try FileDescriptor.open(
                path, .writeOnly, options: [.create, .exclusiveCreate, .closeOnExec], permissions: [.ownerReadWrite, .groupRead, .otherRead])
        }
    }

    /// open(O_APPEND) of an existing file.
    public func openForAppend(_ path: FilePath) throws -> FileDescriptor {
        try io(path, "open") { try FileDescriptor.open(path, .writeOnly, options: [.append, .closeOnExec]) }
    }

    /// write(2) until every byte is written.
    public func write(_ fd: FileDescriptor, _ bytes: UnsafeRawBufferPointer, path: FilePath) throws {
        _ = try io(path, "write") { try fd.writeAll(bytes) }
    }

    /// fsync(2).
    public func sync(_ fd: FileDescriptor, path: FilePath) throws {
        if fsync(fd.rawValue) != 0 { throw SnapshotError.io(path: path.string, operation: "fsync", errno: errno) }
    }

    /// close(2); errors are ignored (nothing is left to make durable).
    public func close(_ fd: FileDescriptor) {
        try? fd.close()
    }

    /// rename(2) (atomic; durable after `syncDirectory`).
    public func rename(_ from: FilePath, to: FilePath) throws {
        if systemRename(from.string, to.string) != 0 {
            throw SnapshotError.io(path: from.string, operation: "rename to \(to.string)", errno: errno)
        }
    }

    /// fsync(2) of the directory.
    public func syncDirectory(_ directory: FilePath) throws {
        let fd = try io(directory, "open directory") {
            try FileDescriptor.open(directory, .readOnly, options: [.directory, .closeOnExec])
        }
        defer { try? fd.close() }
        if fsync(fd.rawValue) != 0 {
            throw SnapshotError.io(path: directory.string, operation: "fsync directory", errno: errno)
        }
    }

    /// unlink(2); a missing file is not an error.
    public func remove(_ path: FilePath) throws {
        if unlink(path.string) != 0 && errno != ENOENT {
            throw SnapshotError.io(path: path.string, operation: "unlink", errno: errno)
        }
    }

    private func io<T>(_ path: FilePath, _ operation: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let e as Errno {
            throw SnapshotError.io(path: path.string, operation: operation, errno: e.rawValue)
        }
    }
}

/// Directory helpers that only read (listing, sizes); they need no seam.
enum SnapshotDirectory {
    /// Names of the entries of `directory`, without "." and "..".
    static func list(_ directory: FilePath) throws -> [String] {
        guard let dir = opendir(directory.string) else {
            throw SnapshotError.io(path: directory.string, operation: "opendir", errno: errno)
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Size of a file in bytes, or nil when it does not exist.
    static func size(_ path: FilePath) throws -> UInt64? {
        var st = stat()
        if stat(path.string, &st) != 0 {
            if errno == ENOENT { return nil }
            throw SnapshotError.io(path: path.string, operation: "stat", errno: errno)
        }
        return UInt64(st.st_size)
    }

    /// Creates `directory` if missing.
    static func make(_ directory: FilePath) throws {
        if mkdir(directory.string, 0o755) != 0 && errno != EEXIST {
            throw SnapshotError.io(path: directory.string, operation: "mkdir", errno: errno)
        }
    }
}

/// rename(2), reachable from inside a type that has its own `rename` method.
private func systemRename(_ from: String, _ to: String) -> Int32 { rename(from, to) }
