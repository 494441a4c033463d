// Reads check entry frames four at a time: the four CRCs run in one interleaved pass (CRC32C.extend4),
// which hides the crc32 instruction's latency that a frame-by-frame loop pays on every word.

/// Up to four consecutive entry frames of one segment, checked together.
struct FrameGroup {
    /// Frame offsets in the segment file, in index order.
    var offsets: (Int, Int, Int, Int) = (0, 0, 0, 0)
    /// Payload lengths.
    var lengths: (Int, Int, Int, Int) = (0, 0, 0, 0)
    /// How many leading frames passed every check. When fewer than asked for, the next one is damaged.
    var valid = 0

    /// Offset and payload length of frame `j` (< 4).
    @inline(__always)
    func frame(_ j: Int) -> (offset: Int, length: Int) {
        switch j {
        case 0: (offsets.0, lengths.0)
        case 1: (offsets.1, lengths.1)
        case 2: (offsets.2, lengths.2)
        default: (offsets.3, lengths.3)
        }
    }

    @inline(__always)
    mutating func set(_ j: Int, offset: Int, length: Int) {
        switch j {
        case 0: offsets.0 = offset; lengths.0 = length
        case 1: offsets.1 = offset; lengths.1 = length
        case 2: offsets.2 = offset; lengths.2 = length
        default: offsets.3 = offset; lengths.3 = length
        }
    }
}

extension Segment {
    /// Checks the frames of entries `index ..< index + count` (`count` in 1...4; `k` is `index`'s position
    /// in this segment, and all must be in it): inside the data, the expected index, an entry and not a
    /// record, the CRC. `valid` says how many leading frames passed; the caller delivers those, and if it
    /// needs the next one, reports it as corruption (`corruption(at:)`). Cost: one interleaved CRC pass
    /// over four frames (a frame-at-a-time pass when fewer are asked for); no allocation.
    @inline(__always)
    func checkGroup(at k: Int, index: UInt64, count: Int) -> FrameGroup {
        var group = FrameGroup()
        var gathered = 0
        offsets.withUnsafeBufferPointer { offsets in
            while gathered < count {
                let offset = Int(offsets[k + gathered])
                let frame = map + offset
                let length = Frame.payloadLength(frame)
                guard length <= dataEnd - offset && offset + SegmentFormat.frameSize(length) <= dataEnd,
                    Frame.index(frame) == index + UInt64(gathered), !Frame.isMarker(frame)
                else { break }
                group.set(gathered, offset: offset, length: length)
                gathered += 1
            }
        }
        if gathered == 4 {
            func span(_ j: Int) -> (UnsafeRawPointer, Int) {
                let (offset, length) = group.frame(j)
                return (map + offset + 4, SegmentFormat.frameSize(length) - 4)
            }
            let crcs = CRC32C.extend4(salt, span(0), span(1), span(2), span(3))
            func matches(_ j: Int, _ crc: UInt32) -> Bool { Frame.storedCRC(map + group.frame(j).offset) == crc }
            group.valid = !matches(0, crcs.0) ? 0 : !matches(1, crcs.1) ? 1 : !matches(2, crcs.2) ? 2
                : !matches(3, crcs.3) ? 3 : 4
        } else {
            while group.valid < gathered {
                let (offset, length) = group.frame(group.valid)
                let frame = map + offset
                guard Frame.computeCRC(frame, payloadLength: length, salt: salt) == Frame.storedCRC(frame) else { break }
                group.valid += 1
            }
        }
        return group
    }

    /// The error for entry `index` (at position `k`) failing `checkGroup`.
    func corruption(at k: Int, index: UInt64) -> LogError {
        LogError.corruption(file: name, offset: Int64(offsets[k]), index: index,
                            reason: "frame checksum or index mismatch on read")
    }
}
