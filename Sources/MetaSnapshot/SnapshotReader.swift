import CLZ4
import CXXHash

/// Reads a snapshot: sequentially (`read(into:)`, the decompressed body in order) or chunk by chunk
/// (`readChunk(_:)`, random access via the chunk table). Every chunk's hash is checked before it is
/// decompressed, so damaged bytes never reach the decoder; `verify()` checks every hash and the whole-file
/// digest without decompressing anything.
///
/// Opening reads only the header and the footer. Memory: two buffers of the largest chunk. Not thread-safe.
public final class SnapshotReader {
    /// Header fields and chunk table.
    public let layout: SnapshotLayout
    /// Where the bytes come from.
    public let source: SnapshotStorage
    private var stored = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var raw = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    private var decodedChunk = -1
    /// The chunk sequential reading is in, and the position inside its raw bytes.
    private var sequentialChunk = 0
    private var positionInChunk = 0

    /// The header's description of the snapshot.
    public var meta: SnapshotMeta { layout.meta }

    /// Opens the snapshot file at `path`. Throws `io` if it cannot be read, or the first format error of the
    /// header and footer (truncation, bad magic, unsupported major version, checksum, malformed table).
    public convenience init(path: String) throws {
        try self.init(source: SnapshotFileStorage(path: path))
    }

    /// Opens a snapshot held by `source`.
    public init(source: SnapshotStorage) throws {
        self.source = source
        layout = try SnapshotLayout(source: source)
        let largest = layout.chunks.reduce(0) { max($0, Int($1.rawLength)) }
        if largest > 0 {
            stored = .allocate(byteCount: largest, alignment: 64)
            raw = .allocate(byteCount: largest, alignment: 64)
        }
    }

    deinit {
        stored.deallocate()
        raw.deallocate()
    }

    /// Copies the next decompressed body bytes into `buffer`; returns how many (0 at the end of the body).
    /// Throws the first hash, decompression or I/O error, naming the chunk's offset.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count && sequentialChunk < layout.chunks.count {
            let length = Int(layout.chunks[sequentialChunk].rawLength)
            if positionInChunk == length {
                sequentialChunk += 1
                positionInChunk = 0
                continue
            }
            if positionInChunk == 0 && buffer.count - done >= length && decodedChunk != sequentialChunk {
                // The whole chunk fits: decode straight into the caller's buffer, no copy.
                try decode(sequentialChunk, into: UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + length]))
                positionInChunk = length
                done += length
                continue
            }
            if decodedChunk != sequentialChunk {
                try decode(sequentialChunk, into: raw)
                decodedChunk = sequentialChunk
            }
            let n = min(buffer.count - done, length - positionInChunk)
            UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + n])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[positionInChunk..<positionInChunk + n]))
            positionInChunk += n
            done += n
        }
        return done
    }

    /// Reads the whole decompressed body into an array (for small snapshots and tests).
    public func readAll() throws -> [UInt8] {
        rewind()
        guard layout.rawLength <= UInt64(Int.max) else {
            throw SnapshotError.invalidArgument("body of \(layout.rawLength) bytes does not fit in memory")
        }
        var out = [UInt8](repeating: 0, count: Int(layout.rawLength))
        let n = try out.withUnsafeMutableBytes { try read(into: $0) }
        return Array(out[..<n])
    }

    /// Starts sequential reading again at the first body byte.
    public func rewind() {
        sequentialChunk = 0
        positionInChunk = 0
    }

    /// Decompresses chunk `k` and passes its raw bytes to `body` (valid only during the call). Throws
    /// `chunkOutOfRange`, or the chunk's hash, decompression or I/O error.
    public func withChunk<T>(_ k: Int, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard k >= 0, k < layout.chunks.count else {
            throw SnapshotError.chunkOutOfRange(path: source.name, chunk: k, count: layout.chunks.count)
        }
        try decode(k, into: raw)
        decodedChunk = k
        // Sequential reading re-decodes its own chunk on the next `read` if this replaced it.
        return try body(UnsafeRawBufferPointer(rebasing: raw[..<Int(layout.chunks[k].rawLength)]))
    }

    /// Chunk `k`'s decompressed bytes as an array.
    public func readChunk(_ k: Int) throws -> [UInt8] {
        try withChunk(k) { Array($0) }
    }

    /// Reads chunk `k`, checks its hash and leaves its raw bytes at the start of `target` (which must hold
    /// `rawLength` bytes). Invalidates `raw`'s decoded chunk when `target` is `raw`.
    private func decode(_ k: Int, into target: UnsafeMutableRawBufferPointer) throws {
        let chunk = layout.chunks[k]
        let storedCount = Int(chunk.storedLength)
        if target.baseAddress == raw.baseAddress { decodedChunk = -1 }
        let storedBytes = UnsafeMutableRawBufferPointer(rebasing: (chunk.isRaw ? target : stored)[..<storedCount])
        try source.read(at: chunk.offset, into: storedBytes)
        try Self.checkHash(chunk, UnsafeRawBufferPointer(storedBytes), index: k, path: source.name)
        if !chunk.isRaw {
            let n = LZ4_decompress_safe(
                stored.baseAddress?.assumingMemoryBound(to: CChar.self),
                target.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(storedCount), Int32(chunk.rawLength))
            guard n == Int32(chunk.rawLength) else {
                throw SnapshotError.decompressionFailed(path: source.name, offset: chunk.offset, chunk: k)
            }
        }
    }

    static func checkHash(_ chunk: SnapshotChunk, _ bytes: UnsafeRawBufferPointer, index: Int, path: String) throws {
        let found = SnapshotFormat.hash(
            bytes, seed: SnapshotFormat.chunkSeed(rawLength: chunk.rawLength, flags: chunk.flags))
        if found != chunk.hash {
            throw SnapshotError.checksumMismatch(
                path: path, offset: chunk.offset, length: UInt64(chunk.storedLength), what: "chunk \(index)",
                expected: chunk.hash, found: found)
        }
    }

    /// Checks every chunk hash and the whole-file digest without decompressing. Reads the file once, in
    /// pieces of at most one chunk. Returns each chunk's status and the first error (nil when all is well).
    public func check() throws -> SnapshotCheck {
        var result = SnapshotCheck(chunkOK: [], digestOK: false, firstError: nil)
        result.chunkOK.reserveCapacity(layout.chunks.count)
        let state = XXH3_createState()
        defer { XXH3_freeState(state) }
        XXH3_64bits_reset(state)
        let header = try SnapshotLayout.read(source, at: 0, count: Int(layout.headerLength))
        header.withUnsafeBytes { _ = XXH3_64bits_update(state, $0.baseAddress, $0.count) }
        for (k, chunk) in layout.chunks.enumerated() {
            let bytes = UnsafeMutableRawBufferPointer(rebasing: stored[..<Int(chunk.storedLength)])
            try source.read(at: chunk.offset, into: bytes)
            do {
                try Self.checkHash(chunk, UnsafeRawBufferPointer(bytes), index: k, path: source.name)
                result.chunkOK.append(true)
            } catch let error as SnapshotError {
                result.chunkOK.append(false)
                if result.firstError == nil { result.firstError = error }
            }
        }
        let tail = try SnapshotLayout.read(
            source, at: layout.tableOffset, count: Int(layout.digestOffset - layout.tableOffset))
        tail.withUnsafeBytes { _ = XXH3_64bits_update(state, $0.baseAddress, $0.count) }
        let digest = XXH3_64bits_digest(state)
        result.digestOK = digest == layout.digest
        if !result.digestOK && result.firstError == nil {
            result.firstError = .checksumMismatch(
                path: source.name, offset: 0, length: layout.digestOffset, what: "whole-file digest (header, table, trailer)",
                expected: layout.digest, found: digest)
        }
        return result
    }

    /// Throws the first error `check()` finds; returns normally only if every hash and the digest match.
    public func verify() throws {
        if let error = try check().firstError { throw error }
    }
}

/// The outcome of `SnapshotReader.check()`.
public struct SnapshotCheck: Sendable, Equatable {
    /// Per chunk: whether its stored bytes match its hash.
    public var chunkOK: [Bool]
    /// Whether the whole-file digest matches.
    public var digestOK: Bool
    /// The first mismatch, in file order; nil when the file is intact.
    public var firstError: SnapshotError?
}
