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
                // Frames are checked in groups of up to four (FrameGroup.swift). A damaged frame throws only
                // if this read reaches it: one past `maxBytes` is left for the next read to report.
                frames: while next <= stopIndex {
                    let want = min(4, Int(stopIndex - next + 1), maxCount - batch.starts.count)
                    if want <= 0 { done = true; break }
                    let group = segment.checkGroup(at: k, index: next, count: want)
                    for j in 0..<group.valid {
                        let (offset, length) = group.frame(j)
                        if !batch.starts.isEmpty && payloadBytes &+ length > maxBytes { done = true; break frames }
                        if offset != runEnd {
                            copyRun()
                            runStart = offset
                            runEnd = offset
                        }
                        batch.starts.append(storage.count + offset - runStart)
                        runEnd = offset + SegmentFormat.frameSize(length)
                        payloadBytes += length
                        next += 1
                        k += 1
                    }
                    if group.valid < want {
                        // As if checked one by one: a frame whose (damaged) length field puts it past
                        // `maxBytes` ends the batch instead.
                        let length = Frame.payloadLength(map + Int(segment.offsets[k]))
                        if !batch.starts.isEmpty && payloadBytes &+ length > maxBytes { done = true; break }
                        throw segment.corruption(at: k, index: next)
                    }
                }
                copyRun()
            }
            batch.setPayloadBytes(payloadBytes)
            return batch
        }
    }
}

extension Log {
    /// Entries a scan visits per hold of the read lock (`forEachEntry`), and the payload bytes after which
    /// it lets go early: what an append or truncation may wait behind.
    static let scanStretchEntries = 4096
    static let scanStretchBytes = 1 << 20

    /// Zero-copy scan: calls `body` with every entry from `index` through `end` (at most the last index),
    /// in index order, until `body` returns false. Each payload is read in place from the segment mapping
    /// and is valid only inside that call; each frame's CRC and index are checked before `body` sees it.
    ///
    /// `body` runs under the log's read lock, taken for a stretch of at most 4,096 entries (or 1 MiB of
    /// payload) at a time, so appends, truncations and compaction wait for one stretch, never for the whole
    /// scan. Between stretches the log may change: the scan ends early at a new last index after a
    /// truncation, and throws `.compacted` if compaction removed its next entry. Do not call this log from
    /// `body` (see `withEntry`).
    ///
    /// `index` may be `lastIndex + 1` (nothing to visit). Returns the index after the last entry visited.
    /// Throws `.compacted` (`index` below the first index), `.unavailable` (`index` past `lastIndex + 1`),
    /// `.corruption` (a frame fails its checks: names the file, offset and index), `.closed`, `.failed`, or
    /// what `body` throws (the scan stops there). Cost: one CRC32C pass over each frame; no copy, no
    /// allocation. For recovery and replay, where `read(from:)`'s copy into a batch is wasted work.
    @discardableResult
    public func forEachEntry(from index: UInt64, through end: UInt64 = .max,
                             _ body: (EntryHeader, UnsafeRawBufferPointer) throws -> Bool) throws -> UInt64 {
        var next = index
        var started = false
        var stopped = false
        while !stopped {
            try state.withReadLock { () throws -> Void in
                try checkUsable()
                if next < first { throw LogError.compacted(index: next, firstIndex: first) }
                if !started {
                    started = true
                    if next > last &+ 1 { throw LogError.unavailable(index: next, lastIndex: last) }
                }
                let stop = min(end, last)
                if next > stop { stopped = true; return }
                var entries = 0
                var bytes = 0
                while next <= stop && entries < Self.scanStretchEntries && bytes < Self.scanStretchBytes {
                    let segment = try locate(next)
                    let segmentStop = min(stop, segment.endIndex - 1)
                    var k = Int(next - segment.baseIndex)
                    // Frames go to `body` in groups of up to four, checked together (FrameGroup.swift); a
                    // damaged frame is reported after the frames before it were delivered.
                    while next <= segmentStop && entries < Self.scanStretchEntries && bytes < Self.scanStretchBytes {
                        let want = Int(min(4, segmentStop - next + 1, UInt64(Self.scanStretchEntries - entries)))
                        let group = segment.checkGroup(at: k, index: next, count: want)
                        for j in 0..<group.valid {
                            let (offset, length) = group.frame(j)
                            let frame = segment.map + offset
                            let header = EntryHeader(index: next, term: Frame.term(frame), kind: Frame.kind(frame))
                            let goOn = try body(header, UnsafeRawBufferPointer(
                                start: frame + SegmentFormat.frameHeaderSize, count: length))
                            next += 1
                            k += 1
                            entries += 1
                            bytes += length
                            if !goOn { stopped = true; return }
                        }
                        if group.valid < want { throw segment.corruption(at: k, index: next) }
                    }
                    if stopped { return }
                }
            }
        }
        return next
    }
}
