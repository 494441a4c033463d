// The index footer of a sealed segment, at the very end of the file:
//
//   footerStart (8-aligned, = end of the last frame): u32 offsets[count] (file offset of each frame)
//   zero padding to a multiple of 8
//   trailer (40 bytes): 0 magic "MLOGFOOT" u64 | 8 firstIndex u64 | 16 count u32 | 20 crc32c(offsets) u32
//                       24 footerStart u64 | 32 flags u32 | 36 crc32c(trailer bytes 0..<36) u32
//   flags bit 0: the entries' terms never decrease in this segment (opening then finds the term runs by
//   binary search over frame headers; without it, by reading every frame header once). Older footers
//   have flags 0. The first offset may be past the header (hard-state or truncation records first).
//
// Opening a log reads only these footers for sealed segments, so open time does not grow with log size.

/// Encoding and checking of segment footers.
enum Footer {
    static let magic: UInt64 = 0x544F_4F46_474F_4C4D  // "MLOGFOOT"
    static let trailerSize = 40

    /// Bytes a footer for `count` entries takes.
    @inline(__always)
    static func size(count: Int) -> Int { ((count * 4 + 7) & ~7) + trailerSize }

    /// Encodes the footer for frames at `offsets` (starting at `footerStart`) into a new byte array.
    static func encode(offsets: [UInt32], firstIndex: UInt64, footerStart: Int, monotonicTerms: Bool = false) -> [UInt8] {
        let total = size(count: offsets.count)
        var bytes = [UInt8](repeating: 0, count: total)
        bytes.withUnsafeMutableBytes { raw in
            offsets.withUnsafeBytes { source in
                // Little-endian hosts store the array as is.
                raw.baseAddress!.copyMemory(from: source.baseAddress!, byteCount: source.count)
            }
            #if _endian(big)
            for i in 0..<offsets.count { raw.storeBytes(of: offsets[i].littleEndian, toByteOffset: i * 4, as: UInt32.self) }
            #endif
            let offsetsCRC = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[0..<(offsets.count * 4)]))
            let t = total - trailerSize
            raw.storeBytes(of: magic.littleEndian, toByteOffset: t, as: UInt64.self)
            raw.storeBytes(of: firstIndex.littleEndian, toByteOffset: t + 8, as: UInt64.self)
            raw.storeBytes(of: UInt32(offsets.count).littleEndian, toByteOffset: t + 16, as: UInt32.self)
            raw.storeBytes(of: offsetsCRC.littleEndian, toByteOffset: t + 20, as: UInt32.self)
            raw.storeBytes(of: UInt64(footerStart).littleEndian, toByteOffset: t + 24, as: UInt64.self)
            raw.storeBytes(of: UInt32(monotonicTerms ? 1 : 0).littleEndian, toByteOffset: t + 32, as: UInt32.self)
            let crc = CRC32C.extend(0, UnsafeRawBufferPointer(rebasing: raw[t..<(t + 36)]))
            raw.storeBytes(of: crc.littleEndian, toByteOffset: t + 36, as: UInt32.self)
        }
        return bytes
    }

    /// Whether a valid footer says the segment's terms never decrease (flags bit 0).
    static func monotonicTerms(_ file: UnsafeRawPointer, fileSize: Int) -> Bool {
        let t = fileSize - trailerSize
        return UInt32(littleEndian: (file + t).loadUnaligned(fromByteOffset: 32, as: UInt32.self)) & 1 != 0
    }

    /// Outcome of reading a footer.
    enum Decoded {
        /// No footer trailer at the end of the file (an unsealed segment).
        case absent
        /// A valid footer: frame offsets and where the footer starts (= end of data).
        case valid(offsets: [UInt32], footerStart: Int)
        /// A trailer that looks like a footer (magic present) but is damaged.
        case damaged(offset: Int64, reason: String)
    }

    /// Reads the footer at the end of a mapped segment of `fileSize` bytes whose first entry is `baseIndex`.
    static func decode(_ file: UnsafeRawPointer, fileSize: Int, baseIndex: UInt64) -> Decoded {
        guard fileSize >= SegmentFormat.headerSize + trailerSize else { return .absent }
        let t = fileSize - trailerSize
        let trailer = file + t
        guard UInt64(littleEndian: trailer.loadUnaligned(as: UInt64.self)) == magic else { return .absent }
        let crc = CRC32C.extend(0, UnsafeRawBufferPointer(start: trailer, count: 36))
        guard crc == UInt32(littleEndian: trailer.loadUnaligned(fromByteOffset: 36, as: UInt32.self)) else {
            return .damaged(offset: Int64(t + 36), reason: "footer trailer checksum mismatch")
        }
        let firstIndex = UInt64(littleEndian: trailer.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let count = Int(UInt32(littleEndian: trailer.loadUnaligned(fromByteOffset: 16, as: UInt32.self)))
        let footerStart64 = UInt64(littleEndian: trailer.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        guard firstIndex == baseIndex else {
            return .damaged(offset: Int64(t + 8), reason: "footer first index \(firstIndex) differs from the header's \(baseIndex)")
        }
        guard footerStart64 <= UInt64(fileSize), Int(footerStart64) + size(count: count) == fileSize,
            footerStart64 >= UInt64(SegmentFormat.headerSize)
        else {
            return .damaged(offset: Int64(t + 24), reason: "footer start \(footerStart64) and count \(count) do not match the file size \(fileSize)")
        }
        let footerStart = Int(footerStart64)
        let table = UnsafeRawBufferPointer(start: file + footerStart, count: count * 4)
        guard CRC32C.extend(0, table) == UInt32(littleEndian: trailer.loadUnaligned(fromByteOffset: 20, as: UInt32.self)) else {
            return .damaged(offset: Int64(footerStart), reason: "footer offset table checksum mismatch")
        }
        for padding in (footerStart + count * 4)..<t where file.load(fromByteOffset: padding, as: UInt8.self) != 0 {
            return .damaged(offset: Int64(padding), reason: "footer padding is not zero")
        }
        var offsets = [UInt32](repeating: 0, count: count)
        var previous = -1
        for i in 0..<count {
            let value = UInt32(littleEndian: table.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self))
            let position = Int(value)
            let valid = i == 0 ? position >= SegmentFormat.headerSize : position > previous
            guard valid, position & 7 == 0, position + SegmentFormat.frameHeaderSize <= footerStart else {
                return .damaged(offset: Int64(footerStart + i * 4), reason: "footer offset \(position) of entry \(i) is out of order or range")
            }
            offsets[i] = value
            previous = position
        }
        return .valid(offsets: offsets, footerStart: footerStart)
    }
}
