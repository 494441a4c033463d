import CLZ4
import CXXHash
import SystemPackage

/// Options of a `SnapshotWriter`.
public struct SnapshotWriterOptions: Sendable {
    /// Raw bytes per chunk (64 B ... 64 MiB; default 1 MiB). Memory use is about twice this.
    public var chunkBytes: Int = SnapshotFormat.defaultChunkBytes
    /// LZ4 acceleration (1 = LZ4's best fast ratio; higher is faster and compresses less). Default 2: on
    /// protobuf-style metadata the ratio stays within 1% of acceleration 1 while compression runs faster.
    public var acceleration: Int32 = 2
    /// Whether `finish()` fsyncs the file before closing it (the store always syncs on publish).
    public var syncOnFinish: Bool = true
    /// Whether to try LZ4 at all; false stores every chunk raw (for bodies known to be incompressible).
    public var compress: Bool = true
    /// Format minor version to write (tests write older minors; only 0 and 1 exist).
    var formatMinor: UInt16 = SnapshotFormat.minor

    /// Default options: 1 MiB chunks, LZ4 acceleration 2, fsync on finish.
    public init(chunkBytes: Int = 1 << 20, acceleration: Int32 = 2, syncOnFinish: Bool = true, compress: Bool = true) {
        self.chunkBytes = chunkBytes
        self.acceleration = acceleration
        self.syncOnFinish = syncOnFinish
        self.compress = compress
    }
}

/// What `SnapshotWriter.finish()` wrote.
public struct SnapshotSummary: Sendable, Equatable {
    /// Number of chunks.
    public var chunkCount: Int
    /// Body bytes before compression.
    public var rawBytes: UInt64
    /// Size of the whole file.
    public var fileBytes: UInt64
    /// The whole-file digest stored in the trailer.
    public var digest: UInt64
}

/// Streams a snapshot into a file: `write` any number of times, then `finish()`.
///
/// Memory stays bounded whatever the snapshot size: one raw chunk buffer, one compression buffer (about two
/// chunks), plus 32 bytes of chunk table per chunk. Each full chunk is compressed with LZ4, or stored raw when
/// compression would not make it smaller; incompressible data is detected by compressing a small probe first,
/// so random bytes cost little more than a plain write. Not thread-safe: one writer per file.
public final class SnapshotWriter {
    /// The file being written.
    public let path: FilePath
    /// The header fields.
    public let meta: SnapshotMeta
    let options: SnapshotWriterOptions
    private let fs: SnapshotFileSystem
    private var fd: FileDescriptor?
    private let raw: UnsafeMutableRawBufferPointer
    private let compressed: UnsafeMutableRawBufferPointer
    private let lz4State: UnsafeMutableRawBufferPointer
    private let digestState: OpaquePointer
    private var filled = 0
    private var fileOffset: UInt64 = 0
    private var rawTotal: UInt64 = 0
    private var table = ByteWriter()
    private var chunkCount = 0
    private var failed = false
    private(set) var summary: SnapshotSummary?

    private static let probeBytes = 16 << 10

    /// Creates `path` (which must not exist) and writes the header. Throws `invalidArgument` for a chunk size
    /// outside 64 B ... 64 MiB or an oversized header, `io` when the file cannot be created or written.
    public convenience init(path: String, meta: SnapshotMeta, options: SnapshotWriterOptions = SnapshotWriterOptions()) throws {
        let fs = PosixSnapshotFileSystem()
        try Self.check(options)
        let header = try SnapshotFormat.encodeHeader(meta, chunkBytes: options.chunkBytes, minor: options.formatMinor)
        let fd = try fs.create(FilePath(path))
        try self.init(fd: fd, path: FilePath(path), fs: fs, meta: meta, options: options, header: header)
    }

    /// Writes through `fs` into the freshly created `fd` (the store's path).
    init(fd: FileDescriptor, path: FilePath, fs: SnapshotFileSystem, meta: SnapshotMeta, options: SnapshotWriterOptions,
         header: [UInt8]? = nil) throws {
        try Self.check(options)
        let header = try header ?? SnapshotFormat.encodeHeader(meta, chunkBytes: options.chunkBytes, minor: options.formatMinor)
        self.fd = fd
        self.path = path
        self.fs = fs
        self.meta = meta
        self.options = options
        raw = .allocate(byteCount: options.chunkBytes, alignment: 64)
        compressed = .allocate(byteCount: Int(LZ4_compressBound(Int32(options.chunkBytes))), alignment: 64)
        lz4State = .allocate(byteCount: Int(LZ4_sizeofState()), alignment: 64)
        digestState = XXH3_createState()
        XXH3_64bits_reset(digestState)
        do {
            try header.withUnsafeBytes { try emit($0, digest: true) }
        } catch {
            abandon()
            throw error
        }
    }

    deinit {
        if let fd { fs.close(fd) }
        raw.deallocate()
        compressed.deallocate()
        lz4State.deallocate()
        XXH3_freeState(digestState)
    }

    private static func check(_ options: SnapshotWriterOptions) throws {
        guard (SnapshotFormat.minChunkBytes...SnapshotFormat.maxChunkBytes).contains(options.chunkBytes) else {
            throw SnapshotError.invalidArgument(
                "chunk size \(options.chunkBytes) outside \(SnapshotFormat.minChunkBytes)...\(SnapshotFormat.maxChunkBytes)")
        }
        guard options.formatMinor <= SnapshotFormat.minor else {
            throw SnapshotError.invalidArgument("format minor \(options.formatMinor) is newer than this writer")
        }
    }

    /// Appends body bytes. Full chunks are compressed and written as they fill. Throws `closed` after
    /// `finish`/`abandon` or an earlier failure, `io` when a write fails (the writer is then unusable).
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard fd != nil, !failed, summary == nil else { throw SnapshotError.closed("snapshot writer \(path)") }
        var rest = bytes
        do {
            while !rest.isEmpty {
                if filled == 0 && rest.count >= raw.count {
                    // A whole chunk straight from the caller's buffer: no copy.
                    try flush(UnsafeRawBufferPointer(rebasing: rest[..<raw.count]))
                    rest = UnsafeRawBufferPointer(rebasing: rest[raw.count...])
                    continue
                }
                let n = min(raw.count - filled, rest.count)
                UnsafeMutableRawBufferPointer(rebasing: raw[filled..<filled + n])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: rest[..<n]))
                filled += n
                rest = UnsafeRawBufferPointer(rebasing: rest[n...])
                if filled == raw.count {
                    try flush(UnsafeRawBufferPointer(raw))
                    filled = 0
                }
            }
        } catch {
            failed = true
            throw error
        }
    }

    /// Appends body bytes from an array.
    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Writes the last partial chunk, the chunk table and the trailer, fsyncs if `syncOnFinish`, and closes the
    /// file. Returns what was written. Throws `io` on a failed write or fsync, `closed` if called twice.
    @discardableResult
    public func finish() throws -> SnapshotSummary {
        guard let fd, !failed, summary == nil else { throw SnapshotError.closed("snapshot writer \(path)") }
        do {
            if filled > 0 {
                try flush(UnsafeRawBufferPointer(rebasing: raw[..<filled]))
                filled = 0
            }
            let tableOffset = fileOffset
            var trailer = ByteWriter()
            trailer.u64(UInt64(chunkCount))
            trailer.u64(rawTotal)
            trailer.u64(tableOffset)
            var footer = table.buffer
            footer.append(contentsOf: trailer.buffer)
            footer.withUnsafeBytes { _ = XXH3_64bits_update(digestState, $0.baseAddress, $0.count) }
            let digest = XXH3_64bits_digest(digestState)
            withUnsafeBytes(of: digest.littleEndian) { footer.append(contentsOf: $0) }
            let footerChecksum = footer.withUnsafeBytes { SnapshotFormat.hash($0) }
            withUnsafeBytes(of: footerChecksum.littleEndian) { footer.append(contentsOf: $0) }
            footer.append(contentsOf: SnapshotFormat.endMagic)
            try footer.withUnsafeBytes { try fs.write(fd, $0, path: path) }
            fileOffset += UInt64(footer.count)
            if options.syncOnFinish { try fs.sync(fd, path: path) }
            fs.close(fd)
            self.fd = nil
            let result = SnapshotSummary(chunkCount: chunkCount, rawBytes: rawTotal, fileBytes: fileOffset, digest: digest)
            summary = result
            return result
        } catch {
            failed = true
            throw error
        }
    }

    /// Closes the file without finishing it (the caller removes it). Later calls throw `closed`.
    public func abandon() {
        failed = true
        if let fd { fs.close(fd) }
        fd = nil
    }

    /// Writes one chunk: compressed if that is smaller, raw otherwise.
    private func flush(_ chunk: UnsafeRawBufferPointer) throws {
        var stored = chunk
        var flags = SnapshotFormat.flagRaw
        if options.compress && worthCompressing(chunk) {
            let n = LZ4_compress_fast_extState(
                lz4State.baseAddress, chunk.baseAddress?.assumingMemoryBound(to: CChar.self),
                compressed.baseAddress?.assumingMemoryBound(to: CChar.self),
                Int32(chunk.count), Int32(chunk.count - 1), options.acceleration)
            if n > 0 {
                stored = UnsafeRawBufferPointer(rebasing: compressed[..<Int(n)])
                flags = SnapshotFormat.flagLZ4
            }
        }
        let rawLength = UInt32(chunk.count)
        let hash = SnapshotFormat.hash(stored, seed: SnapshotFormat.chunkSeed(rawLength: rawLength, flags: flags))
        try emit(stored, digest: false)
        table.u64(fileOffset - UInt64(stored.count))
        table.u32(UInt32(stored.count))
        table.u32(rawLength)
        table.u64(hash)
        table.u32(flags)
        table.u32(0)
        chunkCount += 1
        rawTotal += UInt64(chunk.count)
    }

    /// Cheap incompressibility test: a chunk of at least 64 KiB whose first 16 KiB do not shrink by 1/32 is stored raw.
    private func worthCompressing(_ chunk: UnsafeRawBufferPointer) -> Bool {
        let probe = Self.probeBytes
        guard chunk.count >= 4 * probe else { return true }
        let n = LZ4_compress_fast_extState(
            lz4State.baseAddress, chunk.baseAddress?.assumingMemoryBound(to: CChar.self),
            compressed.baseAddress?.assumingMemoryBound(to: CChar.self),
            Int32(probe), Int32(probe - probe / 32), options.acceleration)
        return n > 0
    }

    /// Writes bytes to the file, folding them into the whole-file digest if `digest` (header bytes; chunk
    /// bytes enter the digest through their hashes in the table).
    private func emit(_ bytes: UnsafeRawBufferPointer, digest: Bool) throws {
        guard let fd else { throw SnapshotError.closed("snapshot writer \(path)") }
        try fs.write(fd, bytes, path: path)
        if digest { _ = XXH3_64bits_update(digestState, bytes.baseAddress, bytes.count) }
        fileOffset += UInt64(bytes.count)
    }
}
