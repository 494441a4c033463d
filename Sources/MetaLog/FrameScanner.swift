/// Scans frames in a mapped segment and tells a torn tail from corruption.
///
/// The rule (DESIGN.md, Recovery): frames are read in order from the header; at the first invalid frame
/// the rest of the file is searched for valid frames. Every frame records, in `syncLag`, how far the
/// log's durable point was behind it when it was written. If some later valid frame was written after a
/// sync that covered the invalid frame's index, the invalid frame had been durable: that is corruption.
/// Otherwise everything from the invalid frame on was never synced and is a torn tail.
struct FrameScanner {
    let map: UnsafeRawPointer
    let fileSize: Int
    let baseIndex: UInt64
    let salt: UInt32
    let fd: Int32
    let fs: any FileSystem

    /// Result of scanning frames from the header.
    struct Scan {
        var offsets: [UInt32] = []
        /// End of the last valid frame.
        var end: Int = SegmentFormat.headerSize
        /// Why scanning stopped before `limit` (nil if it reached it exactly).
        var stopReason: String?
    }

    /// Validates the frame at `offset` expecting `index`; returns its size or nil.
    @inline(__always)
    func frameSize(at offset: Int, limit: Int, expecting index: UInt64) -> Int? {
        guard offset + SegmentFormat.frameHeaderSize <= limit else { return nil }
        let frame = map + offset
        guard Frame.index(frame) == index, Frame.reservedIsZero(frame) else { return nil }
        let length = Frame.payloadLength(frame)
        let size = SegmentFormat.frameSize(length)
        guard size <= limit - offset else { return nil }
        guard Frame.computeCRC(frame, payloadLength: length, salt: salt) == Frame.storedCRC(frame) else { return nil }
        return size
    }

    /// Reads consecutive valid frames from the header up to `limit`.
    func scan(limit: Int) -> Scan {
        var result = Scan()
        var offset = SegmentFormat.headerSize
        var index = baseIndex
        result.offsets.reserveCapacity(max(0, (limit - offset) / 64))
        while offset < limit {
            guard let size = frameSize(at: offset, limit: limit, expecting: index) else {
                result.stopReason = describeInvalid(at: offset, limit: limit, expecting: index)
                break
            }
            result.offsets.append(UInt32(offset))
            offset += size
            index += 1
        }
        result.end = offset
        return result
    }

    /// Why the frame at `offset` is invalid, in words.
    func describeInvalid(at offset: Int, limit: Int, expecting index: UInt64) -> String {
        if offset + SegmentFormat.frameHeaderSize > limit { return "frame header cut short by the end of the data" }
        let frame = map + offset
        if Frame.index(frame) != index { return "frame index \(Frame.index(frame)) where \(index) was expected" }
        if !Frame.reservedIsZero(frame) { return "reserved frame header bytes are not zero" }
        if SegmentFormat.frameSize(Frame.payloadLength(frame)) > limit - offset {
            return "frame length \(Frame.payloadLength(frame)) runs past the end of the data"
        }
        return "frame checksum mismatch"
    }

    /// Outcome of examining what follows the first invalid frame of the last segment.
    enum Tail: Equatable {
        /// Only never-synced data follows: cut here. `lastNonZero` is the end of the last non-zero byte seen.
        case torn(lastNonZero: Int)
        /// A later frame proves the invalid frame was durable: corruption at the given frame offset.
        case corrupt(laterFrameOffset: Int)
    }

    /// Searches [from, fileSize) for valid frames (skipping holes) and classifies the tail.
    /// `expected` is the index the invalid frame should have had.
    func classifyTail(from: Int, expected: UInt64) -> Tail {
        var lastNonZero = from
        var position = Int64(from)
        let end = Int64(fileSize)
        let maxFrames = UInt64(max(1, fileSize / SegmentFormat.frameHeaderSize))
        while position < end {
            guard let dataStart = fs.nextData(fd, from: position), dataStart < end else { break }
            let dataEnd = min(fs.nextHole(fd, from: dataStart) ?? end, end)
            var p = Int(dataStart) & ~7
            if p < from { p = from }
            let stop = Int(dataEnd)
            while p + 8 <= stop {
                let word = (map + p).loadUnaligned(as: UInt64.self)
                if word != 0 { lastNonZero = p + 8 }
                if p + SegmentFormat.frameHeaderSize <= fileSize {
                    let index = Frame.index(map + p)
                    if index >= expected && index - expected < maxFrames,
                        let size = frameSize(at: p, limit: fileSize, expecting: index)
                    {
                        let lag = UInt64(Frame.syncLag(map + p))
                        if lag != UInt64(UInt32.max) && index >= lag && index - lag >= expected {
                            return .corrupt(laterFrameOffset: p)
                        }
                        lastNonZero = max(lastNonZero, p + size)
                        p += size
                        continue
                    }
                }
                p += 8
            }
            position = Int64(max(stop, p))
        }
        return .torn(lastNonZero: lastNonZero)
    }
}
