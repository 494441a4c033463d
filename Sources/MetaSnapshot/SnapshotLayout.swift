/// The parsed, validated frame of a snapshot: header fields and chunk table. Building it reads only the header
/// and the footer (never the body), checks the header checksum, the footer checksum and that the chunk table
/// tiles the body exactly. Every failure names the offset of the first bad byte (or of the checksummed range).
public struct SnapshotLayout: Sendable, Equatable {
    /// Format major version of the file (always 1 for a layout that opened).
    public var major: UInt16
    /// Format minor version of the file.
    public var minor: UInt16
    /// Header length in bytes (the first chunk starts here).
    public var headerLength: UInt64
    /// Raw bytes per chunk the writer used (every chunk but the last holds exactly this many).
    public var chunkBytes: Int
    /// The header's description of the snapshot.
    public var meta: SnapshotMeta
    /// The chunk table.
    public var chunks: [SnapshotChunk]
    /// Total body bytes after decompression.
    public var rawLength: UInt64
    /// Offset of the chunk table (end of the body).
    public var tableOffset: UInt64
    /// Whole file size.
    public var fileSize: UInt64
    /// The whole-file digest recorded in the trailer.
    public var digest: UInt64

    /// Offset of the trailer's digest field (the digest covers every byte before it).
    var digestOffset: UInt64 { fileSize - UInt64(SnapshotFormat.trailerBytes) + 24 }
    /// Body bytes as stored.
    public var storedBodyLength: UInt64 { tableOffset - headerLength }

    /// Reads and validates header and footer of `source`.
    public init(source: SnapshotStorage) throws {
        let path = source.name
        let size = source.size
        fileSize = size
        let prefixBytes = 16
        guard size >= UInt64(prefixBytes) else {
            throw SnapshotError.truncated(path: path, offset: size, needed: UInt64(prefixBytes) - size, what: "header")
        }
        var prefix = ByteReader(try Self.read(source, at: 0, count: prefixBytes), base: 0, path: path)
        let magic = try prefix.take(8, "magic")
        if magic != SnapshotFormat.magic {
            let first = magic.indices.first { magic[$0] != SnapshotFormat.magic[$0] } ?? 0
            throw SnapshotError.badMagic(path: path, offset: UInt64(first), what: "header")
        }
        major = try prefix.u16("version")
        minor = try prefix.u16("version")
        if major != SnapshotFormat.major {
            throw SnapshotError.unsupportedVersion(
                path: path, offset: 8, major: major, minor: minor, supportedMajor: SnapshotFormat.major)
        }
        let hlen = UInt64(try prefix.u32("header length"))
        guard hlen >= UInt64(SnapshotFormat.fixedHeaderBytes + 2 + 4 + 8), hlen <= UInt64(SnapshotFormat.maxHeaderBytes)
        else {
            throw SnapshotError.malformed(path: path, offset: 12, what: "header length \(hlen) out of range")
        }
        guard hlen <= size else {
            throw SnapshotError.truncated(path: path, offset: size, needed: hlen - size, what: "header")
        }
        headerLength = hlen
        let header = try Self.read(source, at: 0, count: Int(hlen))
        let stored = header.withUnsafeBytes { $0.loadLE(at: Int(hlen) - 8) }
        let computed = header.withUnsafeBytes { SnapshotFormat.hash(UnsafeRawBufferPointer(rebasing: $0[..<(Int(hlen) - 8)])) }
        if stored != computed {
            throw SnapshotError.checksumMismatch(
                path: path, offset: 0, length: hlen, what: "header", expected: stored, found: computed)
        }
        var h = ByteReader(Array(header[..<(Int(hlen) - 8)]), base: 0, path: path)
        h.position = 16
        let chunkOffset = h.offset
        let chunkBytes = Int(try h.u32("chunk bytes"))
        guard (SnapshotFormat.minChunkBytes...SnapshotFormat.maxChunkBytes).contains(chunkBytes) else {
            throw SnapshotError.malformed(path: path, offset: chunkOffset, what: "chunk size \(chunkBytes) out of range")
        }
        self.chunkBytes = chunkBytes
        let flagsOffset = h.offset
        if try h.u32("header flags") != 0 {
            throw SnapshotError.malformed(path: path, offset: flagsOffset, what: "unknown header flags")
        }
        let lastIndex = try h.u64("last index")
        let lastTerm = try h.u64("last term")
        let created = Int64(bitPattern: try h.u64("creation time"))
        let smVersion = try h.u32("state-machine version")
        let kindLength = Int(try h.u16("state-machine kind length"))
        let kindOffset = h.offset
        guard let kind = String(validating: try h.take(kindLength, "state-machine kind"), as: UTF8.self) else {
            throw SnapshotError.malformed(path: path, offset: kindOffset, what: "state-machine kind is not UTF-8")
        }
        let membership = try h.take(Int(try h.u32("membership length")), "membership")
        var userMetadata: [String: [UInt8]] = [:]
        if minor >= 1 {
            let count = try h.u32("metadata count")
            for _ in 0..<count {
                let keyOffset = h.offset
                let keyLength = Int(try h.u16("metadata key length"))
                guard let key = String(validating: try h.take(keyLength, "metadata key"), as: UTF8.self),
                    userMetadata[key] == nil
                else {
                    throw SnapshotError.malformed(path: path, offset: keyOffset, what: "metadata key invalid or repeated")
                }
                userMetadata[key] = try h.take(Int(try h.u32("metadata value length")), "metadata value")
            }
        }
        // A newer minor may add fields after the ones this reader knows; an older or equal minor may not.
        if minor <= SnapshotFormat.minor && h.position != Int(hlen) - 8 {
            throw SnapshotError.malformed(path: path, offset: h.offset, what: "unexpected bytes at the end of the header")
        }
        meta = SnapshotMeta(
            stateMachineKind: kind, stateMachineVersion: smVersion, lastIndex: lastIndex, lastTerm: lastTerm,
            membership: membership, userMetadata: userMetadata, createdAtNanos: created)

        // Trailer.
        let trailerBytes = UInt64(SnapshotFormat.trailerBytes)
        guard size >= hlen + trailerBytes else {
            throw SnapshotError.truncated(path: path, offset: size, needed: hlen + trailerBytes - size, what: "footer")
        }
        let t = size - trailerBytes
        var tr = ByteReader(try Self.read(source, at: t, count: Int(trailerBytes)), base: t, path: path)
        tr.position = 40
        let endMagic = try tr.take(8, "end magic")
        if endMagic != SnapshotFormat.endMagic {
            throw SnapshotError.badMagic(path: path, offset: t + 40, what: "footer end")
        }
        tr.position = 0
        let count = try tr.u64("chunk count")
        let maxCount = (t - hlen) / UInt64(SnapshotFormat.tableEntryBytes)
        guard count <= maxCount else {
            throw SnapshotError.malformed(path: path, offset: t, what: "chunk count \(count) does not fit the file")
        }
        rawLength = try tr.u64("raw length")
        let tableOffset = try tr.u64("table offset")
        let expectedTable = t - count * UInt64(SnapshotFormat.tableEntryBytes)
        guard tableOffset == expectedTable else {
            throw SnapshotError.malformed(
                path: path, offset: t,
                what: "chunk count \(count) puts the table at \(expectedTable), the table offset field says \(tableOffset)")
        }
        self.tableOffset = tableOffset
        digest = try tr.u64("digest")
        let footerChecksum = try tr.u64("footer checksum")
        let footer = try Self.read(source, at: tableOffset, count: Int(size - 8 - tableOffset))
        let computedFooter = footer.withUnsafeBytes {
            SnapshotFormat.hash(UnsafeRawBufferPointer(rebasing: $0[..<(footer.count - 8)]))
        }
        if computedFooter != footerChecksum {
            throw SnapshotError.checksumMismatch(
                path: path, offset: tableOffset, length: size - 8 - tableOffset, what: "footer",
                expected: footerChecksum, found: computedFooter)
        }
        chunks = try Self.parseTable(
            footer, count: Int(count), base: tableOffset, bodyStart: hlen, chunkBytes: chunkBytes, path: path)
        let total = chunks.reduce(UInt64(0)) { $0 + UInt64($1.rawLength) }
        guard total == rawLength else {
            throw SnapshotError.malformed(
                path: path, offset: t + 8, what: "raw length \(rawLength), the chunks hold \(total)")
        }
    }

    private static func parseTable(
        _ footer: [UInt8], count: Int, base: UInt64, bodyStart: UInt64, chunkBytes: Int, path: String
    ) throws -> [SnapshotChunk] {
        var chunks: [SnapshotChunk] = []
        chunks.reserveCapacity(count)
        var r = ByteReader(footer, base: base, path: path)
        var expectedOffset = bodyStart
        for k in 0..<count {
            let at = r.offset
            let chunk = SnapshotChunk(
                offset: try r.u64("chunk offset"), storedLength: try r.u32("stored length"),
                rawLength: try r.u32("raw length"), hash: try r.u64("chunk hash"), flags: try r.u32("chunk flags"))
            let reserved = try r.u32("reserved")
            func bad(_ what: String) -> SnapshotError {
                .malformed(path: path, offset: at, what: "chunk \(k): \(what)")
            }
            guard chunk.offset == expectedOffset else { throw bad("offset \(chunk.offset), expected \(expectedOffset)") }
            guard chunk.rawLength >= 1, chunk.rawLength <= chunkBytes,
                k == count - 1 || Int(chunk.rawLength) == chunkBytes
            else { throw bad("raw length \(chunk.rawLength) with chunk size \(chunkBytes)") }
            switch chunk.flags {
            case SnapshotFormat.flagRaw:
                guard chunk.storedLength == chunk.rawLength else { throw bad("raw chunk with stored != raw length") }
            case SnapshotFormat.flagLZ4:
                guard chunk.storedLength >= 1, chunk.storedLength < chunk.rawLength else {
                    throw bad("compressed chunk not smaller than its raw length")
                }
            default:
                throw bad("unknown flags \(chunk.flags)")
            }
            guard reserved == 0 else { throw bad("reserved field is not zero") }
            expectedOffset += UInt64(chunk.storedLength)
            chunks.append(chunk)
        }
        guard expectedOffset == base else {
            throw SnapshotError.malformed(
                path: path, offset: expectedOffset, what: "chunks end at \(expectedOffset), the table starts at \(base)")
        }
        return chunks
    }

    static func read(_ source: SnapshotStorage, at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try source.read(at: offset, into: $0) }
        return bytes
    }
}

extension UnsafeRawBufferPointer {
    /// Little-endian UInt64 at `offset` (caller guarantees bounds).
    func loadLE(at offset: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }
}
