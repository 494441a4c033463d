/// One open segment file: its descriptor, a read-only shared mapping, and the offsets of its frames
/// (4 bytes per entry: the compact in-memory index). Mutated only by the writer under the log's state
/// write lock; read by readers under the read lock.
final class Segment: @unchecked Sendable {
    let id: UInt64
    let baseIndex: UInt64
    let name: String
    let path: String
    let salt: UInt32
    @exclusivity(unchecked) var fd: Int32
    @exclusivity(unchecked) var map: UnsafeRawPointer
    @exclusivity(unchecked) var mapLength: Int
    /// File offset of each frame; entry `baseIndex + i` starts at `offsets[i]`.
    @exclusivity(unchecked) var offsets: [UInt32]
    /// End of the last frame.
    @exclusivity(unchecked) var dataEnd: Int
    /// Size of the file (the preallocated capacity for the active segment).
    @exclusivity(unchecked) var fileSize: Int
    /// Whether the segment ends with a footer and takes no more appends.
    @exclusivity(unchecked) var sealed: Bool
    /// Whether its entries' terms never decrease (recorded in the footer when sealed).
    @exclusivity(unchecked) var monotonicTerms = true
    /// In a recycled file (Recycling.swift): the salt of the file's previous segment, the end of that
    /// segment's frames still in the file (0: none are left), and the first of them at or after the data
    /// end. Writer-only.
    @exclusivity(unchecked) var staleSalt: UInt32 = 0
    @exclusivity(unchecked) var staleEnd = 0
    @exclusivity(unchecked) var staleCursor = 0

    init(id: UInt64, baseIndex: UInt64, name: String, path: String, fd: Int32, map: UnsafeRawPointer,
         mapLength: Int, offsets: [UInt32], dataEnd: Int, fileSize: Int, sealed: Bool) {
        self.id = id
        self.baseIndex = baseIndex
        self.name = name
        self.path = path
        self.salt = SegmentFormat.salt(id)
        self.fd = fd
        self.map = map
        self.mapLength = mapLength
        self.offsets = offsets
        self.dataEnd = dataEnd
        self.fileSize = fileSize
        self.sealed = sealed
    }

    /// Number of entries.
    var count: Int { offsets.count }
    /// Index after the last entry.
    var endIndex: UInt64 { baseIndex + UInt64(offsets.count) }

    /// The first frame boundary of the previous segment's frames at or after `offset` (walking them from
    /// `staleCursor`, each checked against its own CRC), or nil when none of them reach past `offset`;
    /// `staleEnd` becomes 0 once none are left after the boundary. A write that ends at `offset` zero-fills up to the
    /// returned boundary, so that what follows this segment's frames is zeros and then whole stale frames.
    /// Cost: one CRC per stale frame passed, each once.
    func staleBoundary(atOrAfter offset: Int) -> Int? {
        guard staleEnd > 0 else { return nil }
        while staleCursor < offset {
            let remaining = staleEnd - staleCursor
            guard remaining >= SegmentFormat.frameHeaderSize else { break }
            let frame = map + staleCursor
            let length = Frame.payloadLength(frame)
            let size = SegmentFormat.frameSize(length)
            guard size <= remaining, Frame.computeCRC(frame, payloadLength: length, salt: staleSalt) == Frame.storedCRC(frame)
            else { break }  // damaged: stop treating what follows as stale frames
            staleCursor += size
        }
        guard staleCursor >= offset else {
            staleEnd = 0
            return nil
        }
        let boundary = staleCursor
        if staleCursor >= staleEnd { staleEnd = 0 }
        return boundary
    }

    /// Releases the mapping and the descriptor.
    func release(_ fs: any FileSystem) {
        if fd >= 0 {
            fs.unmap(map, length: mapLength)
            fs.close(fd)
            fd = -1
        }
    }

    /// Pointer to the frame of `index` (which must be in this segment), after checking its CRC and index.
    @inline(__always)
    func checkedFrame(_ index: UInt64) throws(LogError) -> UnsafeRawPointer {
        let offset = Int(offsets[Int(index - baseIndex)])
        let frame = map + offset
        let length = Frame.payloadLength(frame)
        guard offset + SegmentFormat.frameSize(length) <= dataEnd,
            Frame.index(frame) == index, !Frame.isMarker(frame),
            Frame.computeCRC(frame, payloadLength: length, salt: salt) == Frame.storedCRC(frame)
        else {
            throw LogError.corruption(
                file: name, offset: Int64(offset), index: index, reason: "frame checksum or index mismatch on read")
        }
        return frame
    }
}
