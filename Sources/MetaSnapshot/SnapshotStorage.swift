import SystemPackage

/// Random-access bytes a `SnapshotReader` reads from: a file, or memory (tests, fuzzing, bytes in transit).
public protocol SnapshotStorage: AnyObject {
    /// Total number of bytes.
    var size: UInt64 { get }
    /// A name for errors (the file path, or a label).
    var name: String { get }
    /// Fills `buffer` with the bytes at `offset`; throws `truncated` if fewer bytes exist.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
}

/// A snapshot file opened read-only; `read` is one `pread` loop. Closes the file on deinit.
public final class SnapshotFileStorage: SnapshotStorage {
    /// The file's length in bytes when it was opened.
    public let size: UInt64
    /// The file's path (named in errors).
    public let name: String
    private let fd: FileDescriptor

    /// Opens `path` read-only. Throws `SnapshotError.io` if it cannot be opened or sized.
    public init(path: String) throws {
        name = path
        do {
            fd = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
        } catch let e as Errno {
            throw SnapshotError.io(path: path, operation: "open", errno: e.rawValue)
        }
        do {
            size = UInt64(try fd.seek(offset: 0, from: .end))
        } catch let e as Errno {
            try? fd.close()
            throw SnapshotError.io(path: path, operation: "lseek", errno: e.rawValue)
        }
    }

    deinit { try? fd.close() }

    /// Fills `buffer` from `offset` (pread until full). Throws `.io` on a failed read, `.truncated` if the
    /// file ends first.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let n: Int
            do {
                n = try fd.read(
                    fromAbsoluteOffset: Int64(offset) + Int64(done),
                    into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            } catch let e as Errno {
                throw SnapshotError.io(path: name, operation: "pread", errno: e.rawValue)
            }
            if n == 0 {
                throw SnapshotError.truncated(
                    path: name, offset: offset + UInt64(done), needed: UInt64(buffer.count - done),
                    what: "a read (the file shrank while open)")
            }
            done += n
        }
    }
}

/// Snapshot bytes held in memory.
public final class SnapshotMemoryStorage: SnapshotStorage {
    /// The snapshot bytes.
    public let bytes: [UInt8]
    /// Named in errors.
    public let name: String
    /// `bytes.count`.
    public var size: UInt64 { UInt64(bytes.count) }

    /// Wraps `bytes`; `name` appears in errors.
    public init(_ bytes: [UInt8], name: String = "<memory>") {
        self.bytes = bytes
        self.name = name
    }

    /// Copies the bytes at `offset` into `buffer`. Throws `.truncated` past the end.
    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard offset <= size, UInt64(buffer.count) <= size - offset else {
            throw SnapshotError.truncated(
                path: name, offset: min(offset, size), needed: UInt64(buffer.count), what: "a read")
        }
        if buffer.isEmpty { return }
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[Int(offset)..<Int(offset) + buffer.count]))
        }
    }
}
