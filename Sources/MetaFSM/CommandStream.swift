// The command stream file format both models' fixtures use: records of a uint32 little-endian length
// followed by that many bytes (one encoded command each). No header, no trailer.

/// Splits a command stream into the byte ranges of its records. Cost: O(records), no copies.
///
/// - Throws: ``MetaFSMError/truncatedRecord(record:offset:needed:available:)`` when the stream ends inside a
///   record (its 1-based number, the byte offset where it starts, and how many bytes it needed).
public func commandStreamRecords(_ bytes: UnsafeRawBufferPointer) throws -> [Range<Int>] {
    var out: [Range<Int>] = []
    var off = 0
    while off < bytes.count {
        guard bytes.count - off >= 4 else {
            throw MetaFSMError.truncatedRecord(record: out.count + 1, offset: off, needed: 4, available: bytes.count - off)
        }
        let n = Int(bytes.loadUnaligned(fromByteOffset: off, as: UInt32.self).littleEndian)
        guard bytes.count - off - 4 >= n else {
            throw MetaFSMError.truncatedRecord(record: out.count + 1, offset: off, needed: n + 4, available: bytes.count - off)
        }
        out.append((off + 4)..<(off + 4 + n))
        off += 4 + n
    }
    return out
}

/// Writes already encoded commands as a command stream (uint32 little-endian length + bytes each).
/// Never throws; O(total bytes).
public func commandStream<S: Sequence>(_ encoded: S) -> [UInt8] where S.Element == [UInt8] {
    var out: [UInt8] = []
    for b in encoded {
        var n = UInt32(b.count).littleEndian
        withUnsafeBytes(of: &n) { out.append(contentsOf: $0) }
        out.append(contentsOf: b)
    }
    return out
}
