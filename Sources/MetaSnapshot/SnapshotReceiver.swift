import SystemPackage

/// Receives the stored bytes of a published snapshot from another store, piece by piece, in order, into a
/// partial file in the receiving store; `finish()` verifies the whole file (header, footer, every chunk hash,
/// the digest, and that it is snapshot `id`) and only then publishes it.
///
/// Resumable: `offset` is how many bytes are held; a receiver re-created for the same id (after a crash or a
/// restart) continues from the partial file's length. The host asks the sender for bytes from `offset` on.
public final class SnapshotReceiver {
    /// The snapshot being received.
    public let id: SnapshotID
    /// Bytes received so far (the next piece must start here).
    public private(set) var offset: UInt64
    private let store: SnapshotStore
    private let partial: FilePath
    private var fd: FileDescriptor?

    init(store: SnapshotStore, id: SnapshotID) throws {
        self.store = store
        self.id = id
        partial = store.partialPath(of: id)
        if let size = try SnapshotDirectory.size(partial) {
            offset = size
            fd = try store.fs.openForAppend(partial)
        } else {
            offset = 0
            fd = try store.fs.create(partial)
            try store.fs.syncDirectory(store.directory)
        }
    }

    deinit { if let fd { store.fs.close(fd) } }

    /// Appends a piece that starts at `pieceOffset`. A piece that starts before `offset` but reaches past it
    /// (a resend) is accepted for its new bytes; one wholly before `offset` is ignored. Throws
    /// `outOfOrderPiece` when the piece starts past `offset` (a gap), `closed` after finish/abandon, `io`.
    public func append(at pieceOffset: UInt64, _ piece: [UInt8]) throws {
        guard let fd else { throw SnapshotError.closed("snapshot receiver \(partial)") }
        guard pieceOffset <= offset else {
            throw SnapshotError.outOfOrderPiece(path: partial.string, expectedOffset: offset, pieceOffset: pieceOffset)
        }
        let skip = offset - pieceOffset
        guard skip < UInt64(piece.count) else { return }
        try piece.withUnsafeBytes { bytes in
            try store.fs.write(fd, UnsafeRawBufferPointer(rebasing: bytes[Int(skip)...]), path: partial)
        }
        offset += UInt64(piece.count) - skip
    }

    /// Makes the bytes received so far durable, so a resumed receiver will not need them again.
    public func sync() throws {
        guard let fd else { throw SnapshotError.closed("snapshot receiver \(partial)") }
        try store.fs.sync(fd, path: partial)
    }

    /// Verifies the received file and publishes it; returns the reader's view of its header. If verification
    /// fails the partial file is removed (the transfer must restart from offset 0) and the format error is
    /// thrown, naming the offset of the first bad byte. Throws `alreadyExists` if `id` got published meanwhile.
    @discardableResult
    public func finish() throws -> SnapshotMeta {
        guard let fd else { throw SnapshotError.closed("snapshot receiver \(partial)") }
        try store.fs.sync(fd, path: partial)
        store.fs.close(fd)
        self.fd = nil
        let meta: SnapshotMeta
        do {
            let reader = try SnapshotReader(path: partial.string)
            try reader.verify()
            guard reader.meta.id == id else {
                throw SnapshotError.malformed(
                    path: partial.string, offset: 24,
                    what: "received snapshot is \(reader.meta.id), expected \(id)")
            }
            meta = reader.meta
        } catch let error as SnapshotError {
            if case .io = error { throw error }
            try? store.fs.remove(partial)
            throw error
        }
        guard try SnapshotDirectory.size(store.path(of: id)) == nil else {
            throw SnapshotError.alreadyExists(directory: store.directory.string, id: id)
        }
        try store.fs.rename(partial, to: store.path(of: id))
        try store.fs.syncDirectory(store.directory)
        return meta
    }

    /// Stops receiving and removes the partial file.
    public func abandon() throws {
        if let fd { store.fs.close(fd) }
        fd = nil
        try store.fs.remove(partial)
    }
}
