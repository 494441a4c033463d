import CXXHash

// The byte layout of a MetaSnapshot file (all integers little-endian; docs/FORMAT.md draws the same tables).
//
//   +--------------------------------------------------------------+ 0
//   | header: magic "MSNAPSHT", major u16, minor u16, header length |
//   |   u32, chunk bytes u32, flags u32, last index u64, last term  |
//   |   u64, created-at ns i64, state-machine version u32, kind     |
//   |   (u16 len + UTF-8), membership (u32 len + bytes), [minor>=1:  |
//   |   metadata count u32, per entry: key u16 len + UTF-8, value   |
//   |   u32 len + bytes], [newer minors' fields], checksum u64      |
//   +--------------------------------------------------------------+ header length
//   | chunk 0 stored bytes | chunk 1 stored bytes | ...            |  each LZ4 block or raw
//   +--------------------------------------------------------------+ table offset
//   | chunk table: per chunk 32 bytes: offset u64, stored length    |
//   |   u32, raw length u32, hash u64, flags u32, reserved u32       |
//   +--------------------------------------------------------------+ file size - 48
//   | trailer: chunk count u64, raw body length u64, table offset   |
//   |   u64, file digest u64, footer checksum u64, "MSNAPEND"        |
//   +--------------------------------------------------------------+ file size
//
// Hashes are XXH3-64. Chunk hash: over the stored bytes, seed = raw length << 8 | flags. Header checksum: over
// header bytes before it. File digest: over the header, the chunk table and the trailer's first 24 bytes; as the
// table holds every chunk's hash, the digest commits to every byte before it (each body byte is hashed once).
// Footer checksum: over the table and the trailer bytes before it (digest included).

/// Format constants and the pieces of the layout shared by the writer, the reader and the tools.
enum SnapshotFormat {
    static let magic: [UInt8] = Array("MSNAPSHT".utf8)
    static let endMagic: [UInt8] = Array("MSNAPEND".utf8)
    static let major: UInt16 = 1
    /// Minor 0: no user metadata section. Minor 1: adds user metadata.
    static let minor: UInt16 = 1
    /// Bytes of the header before the variable part (through the state-machine version).
    static let fixedHeaderBytes = 52
    /// The most header bytes a reader accepts (membership and metadata are meant to be small).
    static let maxHeaderBytes = 64 << 20
    static let tableEntryBytes = 32
    static let trailerBytes = 48
    static let minChunkBytes = 64
    static let maxChunkBytes = 64 << 20
    static let defaultChunkBytes = 1 << 20

    /// Chunk flag: stored bytes are the raw bytes (compression would not have made them smaller).
    static let flagRaw: UInt32 = 1
    /// Chunk flag value 0: stored bytes are one LZ4 block.
    static let flagLZ4: UInt32 = 0

    /// XXH3-64 of a byte range.
    @inline(__always)
    static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        XXH3_64bits_withSeed(bytes.baseAddress, bytes.count, seed)
    }

    /// The seed binding a chunk's raw length and flags into its hash.
    @inline(__always)
    static func chunkSeed(rawLength: UInt32, flags: UInt32) -> UInt64 {
        UInt64(rawLength) << 8 | UInt64(flags & 0xFF)
    }

    /// Encodes the header for `meta`, checksum included.
    static func encodeHeader(_ meta: SnapshotMeta, chunkBytes: Int, minor: UInt16 = minor) throws -> [UInt8] {
        let kind = Array(meta.stateMachineKind.utf8)
        guard kind.count <= Int(UInt16.max) else {
            throw SnapshotError.invalidArgument("state-machine kind is \(kind.count) bytes, at most 65535")
        }
        var out = ByteWriter()
        out.bytes(magic)
        out.u16(major)
        out.u16(minor)
        out.u32(0)  // header length, patched below
        out.u32(UInt32(chunkBytes))
        out.u32(0)  // flags
        out.u64(meta.lastIndex)
        out.u64(meta.lastTerm)
        out.u64(UInt64(bitPattern: meta.createdAtNanos))
        out.u32(meta.stateMachineVersion)
        out.u16(UInt16(kind.count))
        out.bytes(kind)
        guard meta.membership.count <= maxHeaderBytes else {
            throw SnapshotError.invalidArgument("membership is \(meta.membership.count) bytes, too large")
        }
        out.u32(UInt32(meta.membership.count))
        out.bytes(meta.membership)
        if minor >= 1 {
            out.u32(UInt32(meta.userMetadata.count))
            for key in meta.userMetadata.keys.sorted() {
                let keyBytes = Array(key.utf8)
                let value = meta.userMetadata[key] ?? []
                guard keyBytes.count <= Int(UInt16.max) else {
                    throw SnapshotError.invalidArgument("metadata key of \(keyBytes.count) bytes, at most 65535")
                }
                out.u16(UInt16(keyBytes.count))
                out.bytes(keyBytes)
                out.u32(UInt32(truncatingIfNeeded: value.count))
                out.bytes(value)
            }
        } else if !meta.userMetadata.isEmpty {
            throw SnapshotError.invalidArgument("format minor 0 cannot hold user metadata")
        }
        let length = out.buffer.count + 8
        guard length <= maxHeaderBytes else {
            throw SnapshotError.invalidArgument("header would be \(length) bytes, at most \(maxHeaderBytes)")
        }
        out.patchU32(at: 12, UInt32(length))
        let checksum = out.buffer.withUnsafeBytes { hash($0) }
        out.u64(checksum)
        return out.buffer
    }
}

/// One row of the chunk table.
public struct SnapshotChunk: Equatable, Sendable {
    /// File offset of the chunk's stored bytes.
    public var offset: UInt64
    /// Stored (on-disk) length.
    public var storedLength: UInt32
    /// Decompressed length.
    public var rawLength: UInt32
    /// XXH3-64 of the stored bytes, seeded with raw length and flags.
    public var hash: UInt64
    /// 0: LZ4 block, 1: raw.
    public var flags: UInt32

    /// True when the chunk is stored uncompressed.
    public var isRaw: Bool { flags == SnapshotFormat.flagRaw }
}

/// Appends little-endian integers to a byte array.
struct ByteWriter {
    var buffer: [UInt8] = []

    mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { buffer.append(contentsOf: $0) } }
    mutating func patchU32(at index: Int, _ v: UInt32) {
        for i in 0..<4 { buffer[index + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) }
    }
}

/// Reads little-endian fields from a byte array that sits at `base` in a file, throwing `truncated` with the
/// absolute offset when a field runs past the end.
struct ByteReader {
    let bytes: [UInt8]
    let base: UInt64
    let path: String
    var position = 0

    init(_ bytes: [UInt8], base: UInt64, path: String) {
        self.bytes = bytes
        self.base = base
        self.path = path
    }

    /// Absolute file offset of the next field.
    var offset: UInt64 { base + UInt64(position) }

    private mutating func need(_ n: Int, _ what: String) throws {
        if n > bytes.count - position {
            throw SnapshotError.truncated(
                path: path, offset: base + UInt64(bytes.count), needed: UInt64(n - (bytes.count - position)),
                what: what)
        }
    }

    mutating func u16(_ what: String) throws -> UInt16 { UInt16(truncatingIfNeeded: try uint(2, what)) }
    mutating func u32(_ what: String) throws -> UInt32 { UInt32(truncatingIfNeeded: try uint(4, what)) }
    mutating func u64(_ what: String) throws -> UInt64 { try uint(8, what) }

    mutating func uint(_ width: Int, _ what: String) throws -> UInt64 {
        try need(width, what)
        var v: UInt64 = 0
        for i in 0..<width { v |= UInt64(bytes[position + i]) << (8 * UInt64(i)) }
        position += width
        return v
    }

    mutating func take(_ n: Int, _ what: String) throws -> [UInt8] {
        try need(n, what)
        defer { position += n }
        return Array(bytes[position..<position + n])
    }
}
