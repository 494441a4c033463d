extension Log {
    /// The segment holding `index`, after range checks. Needs a state lock.
    @inline(__always)
    func locate(_ index: UInt64) throws(LogError) -> Segment {
        try checkUsable()
        if index < first { throw LogError.compacted(index: index, firstIndex: first) }
        if index > last { throw LogError.unavailable(index: index, lastIndex: last) }
        let lastSegment = segments[segments.count - 1]
        if index >= lastSegment.baseIndex { return lastSegment }
        var low = 0
        var high = segments.count - 1  // segments[high].baseIndex > index
        while high - low > 1 {
            let middle = (low + high) / 2
            if segments[middle].baseIndex <= index { low = middle } else { high = middle }
        }
        return segments[low]
    }

    /// Zero-copy single read: `body` sees the entry's header and payload bytes (valid only inside
    /// `body`; the writer waits while `body` runs, so keep it short, and do not call this log from it:
    /// the lock prefers a waiting writer, so a nested call can deadlock). Throws `.compacted`,
    /// `.unavailable`, `.corruption` (checksum mismatch on read), `.closed`, `.failed`.
    /// Cost: a lookup in the in-memory index and one CRC32C over the frame.
    public func withEntry<R>(at index: UInt64, _ body: (EntryHeader, UnsafeRawBufferPointer) throws -> R) throws -> R {
        try state.withReadLock {
            let segment = try locate(index)
            let frame = try segment.checkedFrame(index)
            let header = EntryHeader(index: index, term: Frame.term(frame), kind: Frame.kind(frame))
            return try body(header, UnsafeRawBufferPointer(start: frame + SegmentFormat.frameHeaderSize, count: Frame.payloadLength(frame)))
        }
    }

    /// The entry at `index` with its own payload copy. Throws like `withEntry`.
    public func entry(at index: UInt64) throws -> Entry {
        try withEntry(at: index) { header, payload in
            Entry(index: header.index, term: header.term, kind: header.kind, payload: [UInt8](payload))
        }
    }

    /// Entries from `index`, at most `maxCount`, stopping before `maxBytes` of payload (but always at
    /// least one entry when `index` exists), in one buffer (frames copied from the segments with one
    /// memcpy per run of adjacent frames; every frame's CRC is checked). For replication messages and replay.
    /// Throws `.compacted` / `.unavailable` for `index` itself, `.corruption`, `.closed`, `.failed`.
    public func read(from index: UInt64, maxCount: Int = .max, maxBytes: Int = .max) throws -> EntryBatch {
        try state.withReadLock { () throws -> EntryBatch in
            _ = try locate(index)
            var batch = EntryBatch()
            batch.firstIndex = index
            var next = index
            var payloadBytes = 0
            var done = maxCount <= 0
            while !done && next <= last {
                let segment = try locate(next)
                let map = segment.map
                let salt = segment.salt
                var k = Int(next - segment.baseIndex)
                // Frames are copied in runs of adjacent frames (a sync marker between two entries
                // splits a run: markers are not entries and are not copied).
                var runStart = Int(segment.offsets[k])
                var runEnd = runStart
                let storage = batch.storage
                func copyRun() {
                    let bytes = runEnd - runStart
                    guard bytes > 0 else { return }
                    storage.reserve(bytes)
                    (storage.base + storage.count).copyMemory(from: map + runStart, byteCount: bytes)
                    storage.count += bytes
                }
                let stopIndex = min(segment.endIndex - 1, last)
                while next <= stopIndex {
                    if batch.starts.count >= maxCount { done = true; break }
                    let offset = Int(segment.offsets[k])
                    let frame = map + offset
                    let length = Frame.payloadLength(frame)
                    if !batch.starts.isEmpty && payloadBytes &+ length > maxBytes { done = true; break }
                    let size = SegmentFormat.frameSize(length)
                    guard offset + size <= segment.dataEnd, Frame.index(frame) == next, !Frame.isMarker(frame),
                        Frame.computeCRC(frame, payloadLength: length, salt: salt) == Frame.storedCRC(frame)
                    else {
                        throw LogError.corruption(
                            file: segment.name, offset: Int64(offset), index: next, reason: "frame checksum or index mismatch on read")
                    }
                    if offset != runEnd {
                        copyRun()
                        runStart = offset
                        runEnd = offset
                    }
                    batch.starts.append(storage.count + offset - runStart)
                    runEnd = offset + size
                    payloadBytes += length
                    next += 1
                    k += 1
                }
                copyRun()
            }
            batch.setPayloadBytes(payloadBytes)
            return batch
        }
    }
}
