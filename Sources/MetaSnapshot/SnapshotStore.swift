import SystemPackage

/// A directory of published snapshots, named by id (`snapshot-<index>-<term>.msnap`).
///
/// A snapshot becomes visible only by `publish`: the writer's temporary file is fsynced, renamed atomically to
/// its final name, and the directory is fsynced. A crash at any moment therefore leaves either the previous set
/// of published files or the new one; a temporary file (`*.tmp`) left by a crash is removed when the store is
/// opened. Partial transfer files (`*.partial`) are kept so a receiver can resume them (see
/// `receiver(for:)`). One process per directory; not thread-safe.
public final class SnapshotStore {
    /// The store's directory.
    public let directory: FilePath
    let fs: SnapshotFileSystem
    private var tempCounter = 0

    static let tempSuffix = ".tmp"
    static let partialSuffix = ".partial"

    /// Opens (creating if missing) the store in `directory`, makes the directory's entry durable in its
    /// parent (a store created just before a power cut must not vanish with the snapshots published into
    /// it), and removes leftover temporary files. Throws `io` when the directory cannot be created, synced,
    /// listed or cleaned. Cost: one directory fsync (two when leftovers were removed).
    public init(directory: String, fileSystem: SnapshotFileSystem = PosixSnapshotFileSystem()) throws {
        self.directory = FilePath(directory)
        fs = fileSystem
        try SnapshotDirectory.make(self.directory)
        var parent = self.directory
        parent.removeLastComponent()
        try fs.syncDirectory(parent.isEmpty ? FilePath(".") : parent)
        let leftovers = try SnapshotDirectory.list(self.directory).filter { $0.hasSuffix(Self.tempSuffix) }
        for name in leftovers { try fs.remove(self.directory.appending(name)) }
        if !leftovers.isEmpty { try fs.syncDirectory(self.directory) }
    }

    /// Path of the published file of `id` (it may not exist).
    public func path(of id: SnapshotID) -> FilePath { directory.appending(id.fileName) }

    /// Starts a snapshot: a writer on a fresh temporary file in the store. Nothing is visible until `publish`.
    /// Throws `alreadyExists` if `meta.id` is already published, `invalidArgument` for bad options, `io`.
    public func create(_ meta: SnapshotMeta, options: SnapshotWriterOptions = SnapshotWriterOptions()) throws -> SnapshotWriter {
        guard try SnapshotDirectory.size(path(of: meta.id)) == nil else {
            throw SnapshotError.alreadyExists(directory: directory.string, id: meta.id)
        }
        let header = try SnapshotFormat.encodeHeader(meta, chunkBytes: options.chunkBytes, minor: options.formatMinor)
        var temp: FilePath
        repeat {
            tempCounter += 1
            temp = directory.appending("\(meta.id.fileName).\(tempCounter)\(Self.tempSuffix)")
        } while try SnapshotDirectory.size(temp) != nil
        let fd = try fs.create(temp)
        do {
            return try SnapshotWriter(fd: fd, path: temp, fs: fs, meta: meta, options: options, header: header)
        } catch {
            try? fs.remove(temp)
            throw error
        }
    }

    /// Makes `writer`'s snapshot visible: finishes it if needed (fsync), renames it to its final name and
    /// fsyncs the directory. On return the snapshot is durable and `latest()` can return it. On a thrown error
    /// before the rename, the temporary file is removed (best effort) and the published set is unchanged; if
    /// only the final directory fsync fails, the snapshot is visible but may not survive a power loss.
    @discardableResult
    public func publish(_ writer: SnapshotWriter) throws -> SnapshotID {
        let id = writer.meta.id
        do {
            if writer.summary == nil { try writer.finish() }
            if !writer.options.syncOnFinish { throw SnapshotError.invalidArgument("store writers must sync on finish") }
            guard try SnapshotDirectory.size(path(of: id)) == nil else {
                throw SnapshotError.alreadyExists(directory: directory.string, id: id)
            }
            try fs.rename(writer.path, to: path(of: id))
        } catch {
            writer.abandon()
            try? fs.remove(writer.path)
            throw error
        }
        try fs.syncDirectory(directory)
        return id
    }

    /// Drops an unpublished writer and removes its temporary file.
    public func abandon(_ writer: SnapshotWriter) throws {
        writer.abandon()
        try fs.remove(writer.path)
    }

    /// Published snapshots, newest (highest index, then term) first.
    public func list() throws -> [SnapshotID] {
        try SnapshotDirectory.list(directory).compactMap { SnapshotID(fileName: $0) }.sorted(by: >)
    }

    /// The newest published snapshot, or nil when there is none.
    public func latest() throws -> SnapshotID? { try list().first }

    /// Opens a published snapshot for reading. Throws `notFound`, or the reader's format errors.
    public func open(_ id: SnapshotID) throws -> SnapshotReader {
        guard try SnapshotDirectory.size(path(of: id)) != nil else {
            throw SnapshotError.notFound(directory: directory.string, id: id)
        }
        return try SnapshotReader(path: path(of: id).string)
    }

    /// Removes a published snapshot durably (unlink, then directory fsync). Throws `notFound` or `io`.
    public func delete(_ id: SnapshotID) throws {
        guard try SnapshotDirectory.size(path(of: id)) != nil else {
            throw SnapshotError.notFound(directory: directory.string, id: id)
        }
        try fs.remove(path(of: id))
        try fs.syncDirectory(directory)
    }

    /// Keeps the newest `count` published snapshots and deletes the rest, oldest last; returns the deleted ids.
    @discardableResult
    public func retain(newest count: Int) throws -> [SnapshotID] {
        let doomed = Array(try list().dropFirst(max(count, 0)))
        for id in doomed { try fs.remove(path(of: id)) }
        if !doomed.isEmpty { try fs.syncDirectory(directory) }
        return doomed
    }

    // MARK: Chunked transfer, sender side

    /// Size in bytes of a published snapshot file. Throws `notFound`.
    public func fileSize(of id: SnapshotID) throws -> UInt64 {
        guard let size = try SnapshotDirectory.size(path(of: id)) else {
            throw SnapshotError.notFound(directory: directory.string, id: id)
        }
        return size
    }

    /// Up to `count` stored bytes of published snapshot `id` starting at `offset` (fewer at the end of the file,
    /// none at or past it). The host sends them to a `SnapshotReceiver`. Throws `notFound`,
    /// `rangeOutOfBounds` for an offset past the end or a negative count, `io`.
    public func readRaw(_ id: SnapshotID, offset: UInt64, count: Int) throws -> [UInt8] {
        let size = try fileSize(of: id)
        guard offset <= size, count >= 0 else {
            throw SnapshotError.rangeOutOfBounds(path: path(of: id).string, offset: offset, count: count, fileSize: size)
        }
        let n = Int(min(UInt64(count), size - offset))
        let source = try SnapshotFileStorage(path: path(of: id).string)
        return try SnapshotLayout.read(source, at: offset, count: n)
    }

    // MARK: Chunked transfer, receiver side

    /// A receiver for snapshot `id`, resuming the partial file of an earlier receiver (even one from before a
    /// crash) at its current length. Throws `alreadyExists` if `id` is already published, `io`.
    public func receiver(for id: SnapshotID) throws -> SnapshotReceiver {
        guard try SnapshotDirectory.size(path(of: id)) == nil else {
            throw SnapshotError.alreadyExists(directory: directory.string, id: id)
        }
        return try SnapshotReceiver(store: self, id: id)
    }

    /// Ids of partial transfers present in the directory (receivers that have not finished).
    public func partialTransfers() throws -> [SnapshotID] {
        try SnapshotDirectory.list(directory).compactMap { name -> SnapshotID? in
            guard name.hasSuffix(Self.partialSuffix) else { return nil }
            return SnapshotID(fileName: String(name.dropLast(Self.partialSuffix.count)))
        }.sorted(by: >)
    }

    func partialPath(of id: SnapshotID) -> FilePath { directory.appending(id.fileName + Self.partialSuffix) }
}
