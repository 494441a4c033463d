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
    /// The previous segment's salt in a recycled file (header field `previousSalt`), else 0: whole
    /// frames of that segment after this one's are stale, skipped by `classifyTail` as zeros are.
    var staleSalt: UInt32 = 0

    /// Result of scanning frames from the header.
    struct Scan {
        var offsets: [UInt32] = []
        /// End of the last valid frame.
        var end: Int = SegmentFormat.headerSize
        /// Why scanning stopped before `limit` (nil if it reached it exactly).
        var stopReason: String?
        /// The durable index of the last sync marker passed, if any.
        var lastMarker: UInt64?
        /// The hard-state record with the highest seq passed, if any: (seq, state, frame offset).
        var hardState: (seq: UInt64, state: HardState, offset: Int)?
        /// Whether the entries' terms never decrease in this segment.
        var monotonicTerms = true
    }

    /// Validates the frame at `offset` expecting entry `index` (or a sync marker for an index below it);
    /// returns its size or nil.
    @inline(__always)
    func frameSize(at offset: Int, limit: Int, expecting index: UInt64) -> Int? {
        guard offset + SegmentFormat.frameHeaderSize <= limit else { return nil }
        let frame = map + offset
        guard Frame.reservedIsZero(frame) else { return nil }
        if Frame.isMarker(frame) {
            let flags = Frame.flags(frame)
            guard Frame.index(frame) < index else { return nil }
            if flags == Frame.hardStateFlag {
                guard Frame.payloadLength(frame) >= 32 else { return nil }
            } else {
                guard Frame.payloadLength(frame) == 0 else { return nil }
                if flags == Frame.truncateFlag && Frame.index(frame) &+ 1 < baseIndex { return nil }
            }
        } else {
            guard Frame.index(frame) == index else { return nil }
        }
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
            let frame = map + offset
            offset += size
            if Frame.isMarker(frame) {
                switch Frame.flags(frame) {
                case Frame.markerFlag:
                    result.lastMarker = Frame.index(frame)
                case Frame.hardStateFlag:
                    if let record = Frame.readHardState(frame), record.seq > (result.hardState?.seq ?? 0) {
                        result.hardState = (record.seq, record.state, offset - size)
                    }
                default:  // truncation: drop the entries after the record's index
                    let keep = Int(Frame.index(frame) &+ 1 &- baseIndex)
                    result.offsets.removeSubrange(keep...)
                    index = Frame.index(frame) + 1
                }
                continue
            }
            if let previous = result.offsets.last, Frame.term(map + Int(previous)) > Frame.term(frame) {
                result.monotonicTerms = false
            }
            result.offsets.append(UInt32(offset - size))
            index += 1
        }
        result.end = offset
        return result
    }

    /// Why the frame at `offset` is invalid, in words.
    func describeInvalid(at offset: Int, limit: Int, expecting index: UInt64) -> String {
        if offset + SegmentFormat.frameHeaderSize > limit { return "frame header cut short by the end of the data" }
        let frame = map + offset
        if !Frame.reservedIsZero(frame) { return "reserved frame header bytes are not zero" }
        if Frame.isMarker(frame) { return "record (flags \(Frame.flags(frame))) for index \(Frame.index(frame)) where entry \(index) was expected" }
        if Frame.index(frame) != index { return "frame index \(Frame.index(frame)) where \(index) was expected" }
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

    /// Searches [from, fileSize) for valid frames (skipping holes, and all-zero stretches found by
    /// reading 256 KiB at a time rather than faulting pages in) and classifies the tail.
    /// `expected` is the index the invalid frame should have had.
    func classifyTail(from: Int, expected: UInt64) -> Tail {
        var lastNonZero = from
        var position = Int64(from)
        let end = Int64(fileSize)
        let maxFrames = UInt64(max(1, fileSize / SegmentFormat.frameHeaderSize))
        let chunkSize = 256 << 10
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 8)
        defer { chunk.deallocate() }
        var p = from & ~7
        // CRC bytes spent on candidates that were not stale frames: bounded, so that junk cannot make
        // the search quadratic (past the budget, stale frames count as junk: a torn tail is then
        // reported too long, never too short).
        var staleBudget = 64 << 20
        while position < end {
            guard let dataStart = fs.nextData(fd, from: position), dataStart < end else { break }
            let dataEnd = min(fs.nextHole(fd, from: dataStart) ?? end, end)
            p = max(p, Int(dataStart) & ~7)
            let stop = Int(dataEnd)
            while p + 8 <= stop {
                // Skip all-zero chunks without touching the mapping.
                let want = min(chunkSize, stop - p)
                if let got = try? fs.pread(fd, UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want]), at: Int64(p), path: ""),
                    got == want, FrameScanner.isZero(UnsafeRawBufferPointer(chunk), count: want)
                {
                    p += want
                    continue
                }
                let chunkEnd = min(p + want, stop)
                while p + 8 <= chunkEnd {
                    let word = (map + p).loadUnaligned(as: UInt64.self)
                    if word != 0 && staleSalt != 0, let size = staleFrameSize(at: p, budget: &staleBudget) {
                        p += size
                        continue
                    }
                    if word != 0 { lastNonZero = max(lastNonZero, p + 8 - UInt64(littleEndian: word).leadingZeroBitCount / 8) }
                    if p + SegmentFormat.frameHeaderSize <= fileSize {
                        let index = Frame.index(map + p)
                        if index >= expected && index - expected < maxFrames,
                            let size = frameSize(at: p, limit: fileSize, expecting: Frame.isMarker(map + p) ? index + 1 : index)
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
            }
            position = Int64(max(stop, p))
        }
        return .torn(lastNonZero: lastNonZero)
    }

    /// The size of a whole frame of the previous segment (`staleSalt`) at `offset`, or nil. CRC bytes of
    /// candidates that fail are taken from `budget`; nil once it is spent.
    func staleFrameSize(at offset: Int, budget: inout Int) -> Int? {
        guard budget > 0, offset + SegmentFormat.frameHeaderSize <= fileSize else { return nil }
        let frame = map + offset
        guard Frame.reservedIsZero(frame) else { return nil }
        let length = Frame.payloadLength(frame)
        let size = SegmentFormat.frameSize(length)
        guard size <= fileSize - offset else { return nil }
        if Frame.computeCRC(frame, payloadLength: length, salt: staleSalt) == Frame.storedCRC(frame) { return size }
        budget -= size
        return nil
    }

    /// Whether the first `count` bytes (a multiple of 8) are all zero.
    static func isZero(_ bytes: UnsafeRawBufferPointer, count: Int) -> Bool {
        var accumulator: UInt64 = 0
        var i = 0
        while i + 8 <= count {
            accumulator |= bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            i += 8
            if i & 4095 == 0 && accumulator != 0 { return false }
        }
        while i < count {
            accumulator |= UInt64(bytes[i])
            i += 1
        }
        return accumulator == 0
    }
}
