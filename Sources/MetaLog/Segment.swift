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
