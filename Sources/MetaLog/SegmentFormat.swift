// The byte layout of segment files (drawn in full in docs/FORMAT.md). All integers little-endian.
//
// Segment file "<segmentId:016x>-<baseIndex:020>.seg":
//
//   +--------------------------- header, 40 bytes ---------------------------+
//   | 0  magic "MLOGSEG\0" (8) | 8 version u32 = 2 (1 read) | 12 previousSalt |
//   | 16 baseIndex u64         | 24 segmentId u64                            |
//   | 32 crc32c(bytes 0..<32) u32 | 36 reserved u32 = 0                      |
//   +------------------------------------------------------------------------+
//   | frame | frame | ... (each 8-byte aligned)  | zeros (preallocated), or in |
//   |   a recycled file: zeros up to a frame boundary of the file's previous segment, then its frames |
//   | [sealed only] footer: u32 offsets[count], pad to 8, 40-byte trailer     |
//
// previousSalt u32: 0 for a new file; in a recycled file (Recycling.swift), the salt of the segment the
// file held before, whose frames may follow this segment's: they are skipped as stale, not taken for a
// torn write. Readers that ignore the field still never read them as entries (the CRC seeds differ).
//
// Frame (32-byte header + payload + zero padding to a multiple of 8):
//   0 crc u32: CRC32C seeded with the segment's salt, over bytes 4..<32, the payload and the padding
//   4 payloadLength u32 | 8 index u64 | 16 term u64 | 24 kind u8
//   25 flags u8 (bit 0: sync marker, bit 1: hard-state record, bit 2: truncation record; at most one)
//   26 reserved u16 = 0 | 28 syncLag u32: index minus the last durable index when it was written
//                                         (saturating), used to tell torn tails from corruption.
// A sync marker (flags bit 0) is not an entry: payload length 0, term 0, kind 0, sync lag 0, and its
// index field is the log's durable index after a sync. It is written after the fdatasync of `sync()` in
// manual durability and on close, so that recovery knows which frames had been synced.
// A hard-state record (flags bit 1, format 2) is not an entry either: its index field is the last entry
// index when it was written, its payload is seq u64 | term u64 | vote u64 | commit u64 | context bytes;
// the record with the highest seq in the last segment (or the `hardstate` file, if its seq is higher)
// is the log's hard state.
// A truncation record (flags bit 2, format 2): payload empty, index field t: every entry of this segment
// after t that precedes the record is dropped and the next entry is t + 1 (a conflict overwrite written
// after the old frames instead of over them, so one fdatasync makes it durable and a crash before it
// leaves the old frames intact).

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Constants and helpers of the segment format.
enum SegmentFormat {
    static let magic: UInt64 = 0x0047_4553_474F_4C4D  // "MLOGSEG\0" little-endian
    /// The version new segments are written with (2: hard-state and truncation records). Version 1
    /// segments (no records) are read and appended to unchanged.
    static let version: UInt32 = 2
    static let headerSize = 40
    static let frameHeaderSize = 32
    static let fileSuffix = ".seg"

    /// The CRC seed of frames in segment `id` (so a frame copied from another segment does not verify).
    @inline(__always)
    static func salt(_ id: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: id ^ (id >> 32)) }

    /// Size on disk of a frame with `payloadLength` payload bytes.
    @inline(__always)
    static func frameSize(_ payloadLength: Int) -> Int { frameHeaderSize + ((payloadLength + 7) & ~7) }

    /// File name of segment `id` starting at `baseIndex`.
    static func fileName(id: UInt64, baseIndex: UInt64) -> String {
        let hex = String(id, radix: 16)
        let dec = String(baseIndex)
        return String(repeating: "0", count: max(0, 16 - hex.count)) + hex + "-"
            + String(repeating: "0", count: max(0, 20 - dec.count)) + dec + fileSuffix
    }

    /// Parses a segment file name into (id, baseIndex), or nil if `name` is not one.
    static func parseFileName(_ name: String) -> (id: UInt64, baseIndex: UInt64)? {
        guard name.hasSuffix(fileSuffix) else { return nil }
        let stem = name.dropLast(fileSuffix.count)
        let parts = stem.split(separator: "-")
        guard parts.count == 2, parts[0].count == 16, parts[1].count == 20,
            let id = UInt64(parts[0], radix: 16), let base = UInt64(parts[1])
        else { return nil }
        return (id, base)
    }

    /// Writes a segment header into `buffer` (at least `headerSize` bytes).
    static func encodeHeader(baseIndex: UInt64, segmentId: UInt64, previousSalt: UInt32 = 0, into buffer: UnsafeMutableRawPointer) {
        memset(buffer, 0, headerSize)
        buffer.storeBytes(of: magic.littleEndian, toByteOffset: 0, as: UInt64.self)
        buffer.storeBytes(of: version.littleEndian, toByteOffset: 8, as: UInt32.self)
        buffer.storeBytes(of: previousSalt.littleEndian, toByteOffset: 12, as: UInt32.self)
        buffer.storeBytes(of: baseIndex.littleEndian, toByteOffset: 16, as: UInt64.self)
        buffer.storeBytes(of: segmentId.littleEndian, toByteOffset: 24, as: UInt64.self)
        let crc = CRC32C.extend(0, UnsafeRawBufferPointer(start: buffer, count: 32))
        buffer.storeBytes(of: crc.littleEndian, toByteOffset: 32, as: UInt32.self)
    }

    /// The previous segment's salt recorded in a (checked) header: nonzero only in a recycled file.
    static func previousSalt(_ header: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: header.loadUnaligned(fromByteOffset: 12, as: UInt32.self))
    }

    /// Checks a segment header; returns nil when valid, else (offset of the bad field, reason).
    static func checkHeader(_ bytes: UnsafeRawBufferPointer, baseIndex: UInt64, segmentId: UInt64)
        -> (offset: Int64, reason: String)?
    {
        guard bytes.count >= headerSize else {
            return (Int64(bytes.count), "file is \(bytes.count) bytes, shorter than the 40-byte segment header")
        }
        let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: bytes[0..<32]))
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 32, as: UInt32.self))
        if UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)) != magic {
            return (0, "bad segment magic")
        }
        if crc != stored { return (32, "segment header checksum mismatch") }
        let version = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
        if version != 1 && version != self.version { return (8, "unsupported segment format version \(version)") }
        let base = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        if base != baseIndex { return (16, "header base index \(base) differs from the file name's \(baseIndex)") }
        let id = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        if id != segmentId { return (24, "header segment id \(id) differs from the file name's \(segmentId)") }
        if bytes.loadUnaligned(fromByteOffset: 36, as: UInt32.self) != 0 { return (36, "reserved header bytes are not zero") }
        return nil
    }
}

/// Reading and writing one frame header in place.
enum Frame {
    @inline(__always) static func payloadLength(_ p: UnsafeRawPointer) -> Int {
        Int(UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 4, as: UInt32.self)))
    }
    @inline(__always) static func index(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
    }
    @inline(__always) static func term(_ p: UnsafeRawPointer) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
    }
    @inline(__always) static func kind(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 24, as: UInt8.self) }
    @inline(__always) static func syncLag(_ p: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 28, as: UInt32.self))
    }
    @inline(__always) static func storedCRC(_ p: UnsafeRawPointer) -> UInt32 {
        UInt32(littleEndian: p.loadUnaligned(fromByteOffset: 0, as: UInt32.self))
    }
    /// Whether reserved bytes and unknown flag bits are zero.
    @inline(__always) static func reservedIsZero(_ p: UnsafeRawPointer) -> Bool {
        let flags = p.load(fromByteOffset: 25, as: UInt8.self)
        return flags & ~recordFlags == 0 && flags & (flags &- 1) == 0 && p.loadUnaligned(fromByteOffset: 26, as: UInt16.self) == 0
    }
    static let markerFlag: UInt8 = 1
    static let hardStateFlag: UInt8 = 2
    static let truncateFlag: UInt8 = 4
    static let recordFlags: UInt8 = 7
    /// Whether the frame is a record (sync marker, hard state, truncation) rather than an entry.
    @inline(__always) static func isMarker(_ p: UnsafeRawPointer) -> Bool {
        p.load(fromByteOffset: 25, as: UInt8.self) & recordFlags != 0
    }
    @inline(__always) static func flags(_ p: UnsafeRawPointer) -> UInt8 { p.load(fromByteOffset: 25, as: UInt8.self) }

    /// Bytes a hard-state record for `state` takes.
    static func hardStateRecordSize(_ state: HardState) -> Int { SegmentFormat.frameSize(32 + state.context.count) }

    /// Writes a complete hard-state record (`hardStateRecordSize(state)` bytes) at `p`.
    static func writeHardState(_ p: UnsafeMutableRawPointer, _ state: HardState, seq: UInt64, lastIndex: UInt64,
                               syncLag: UInt32, salt: UInt32) {
        let size = hardStateRecordSize(state)
        p.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        p.storeBytes(of: UInt32(32 + state.context.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: lastIndex.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: hardStateFlag, toByteOffset: 25, as: UInt8.self)
        p.storeBytes(of: syncLag.littleEndian, toByteOffset: 28, as: UInt32.self)
        let body = p + SegmentFormat.frameHeaderSize
        body.storeBytes(of: seq.littleEndian, toByteOffset: 0, as: UInt64.self)
        body.storeBytes(of: state.term.littleEndian, toByteOffset: 8, as: UInt64.self)
        body.storeBytes(of: state.vote.littleEndian, toByteOffset: 16, as: UInt64.self)
        body.storeBytes(of: state.commit.littleEndian, toByteOffset: 24, as: UInt64.self)
        state.context.withUnsafeBytes { raw in
            if let base = raw.baseAddress { (body + 32).copyMemory(from: base, byteCount: raw.count) }
        }
        let crc = computeCRC(UnsafeRawPointer(p), payloadLength: 32 + state.context.count, salt: salt)
        p.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    /// Decodes a (valid) hard-state record's payload: (seq, state).
    static func readHardState(_ p: UnsafeRawPointer) -> (seq: UInt64, state: HardState)? {
        let length = payloadLength(p)
        guard length >= 32 else { return nil }
        let body = p + SegmentFormat.frameHeaderSize
        let state = HardState(
            term: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            vote: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            commit: UInt64(littleEndian: body.loadUnaligned(fromByteOffset: 24, as: UInt64.self)),
            context: [UInt8](UnsafeRawBufferPointer(start: body + 32, count: length - 32)))
        return (UInt64(littleEndian: body.loadUnaligned(as: UInt64.self)), state)
    }

    /// Writes a complete truncation record (32 bytes): entries after `after` are dropped.
    static func writeTruncation(_ p: UnsafeMutableRawPointer, after: UInt64, syncLag: UInt32, salt: UInt32) {
        p.initializeMemory(as: UInt8.self, repeating: 0, count: SegmentFormat.frameHeaderSize)
        p.storeBytes(of: after.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: truncateFlag, toByteOffset: 25, as: UInt8.self)
        p.storeBytes(of: syncLag.littleEndian, toByteOffset: 28, as: UInt32.self)
        let crc = computeCRC(UnsafeRawPointer(p), payloadLength: 0, salt: salt)
        p.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    /// Writes a complete sync marker frame (32 bytes) saying entries through `durable` are on disk.
    static func writeMarker(_ p: UnsafeMutableRawPointer, durable: UInt64, salt: UInt32) {
        p.initializeMemory(as: UInt8.self, repeating: 0, count: SegmentFormat.frameHeaderSize)
        p.storeBytes(of: durable.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: markerFlag, toByteOffset: 25, as: UInt8.self)
        let crc = computeCRC(UnsafeRawPointer(p), payloadLength: 0, salt: salt)
        p.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }

    /// The CRC a frame at `p` with `payloadLength` payload bytes should carry (it covers everything
    /// after the CRC field: header, payload and padding).
    @inline(__always)
    static func computeCRC(_ p: UnsafeRawPointer, payloadLength: Int, salt: UInt32) -> UInt32 {
        CRC32C.extend(salt, UnsafeRawBufferPointer(start: p + 4, count: SegmentFormat.frameSize(payloadLength) - 4))
    }

    /// Writes the header fields known when building a batch (crc, index and syncLag stay zero).
    @inline(__always)
    static func writeBatchHeader(_ p: UnsafeMutableRawPointer, payloadLength: Int, term: UInt64, kind: UInt8) {
        p.storeBytes(of: (UInt64(UInt32(truncatingIfNeeded: payloadLength)) << 32).littleEndian, toByteOffset: 0, as: UInt64.self)
        p.storeBytes(of: UInt64(0), toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: term.littleEndian, toByteOffset: 16, as: UInt64.self)
        p.storeBytes(of: UInt64(kind).littleEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// Fills in index and syncLag and then the CRC of a frame about to be written.
    @inline(__always)
    static func seal(_ p: UnsafeMutableRawPointer, index: UInt64, syncLag: UInt32, salt: UInt32) {
        p.storeBytes(of: index.littleEndian, toByteOffset: 8, as: UInt64.self)
        p.storeBytes(of: syncLag.littleEndian, toByteOffset: 28, as: UInt32.self)
        let length = payloadLength(UnsafeRawPointer(p))
        let crc = computeCRC(UnsafeRawPointer(p), payloadLength: length, salt: salt)
        p.storeBytes(of: crc.littleEndian, toByteOffset: 0, as: UInt32.self)
    }
}
