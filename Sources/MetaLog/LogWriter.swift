#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension Log {
    /// Appends the batch at `lastIndex + 1 ...` and returns the indexes it got. Durable per the
    /// durability policy before returning (group commit: concurrent callers share one fdatasync and each
    /// returns once its own entries are durable). The batch is written with one write(2).
    /// Throws `.invalidArgument` for an empty batch, `.noSpace` (nothing appended, log usable),
    /// `.failed` after an fsync failure, `.closed`.
    @discardableResult
    public func append(_ batch: EntryBatch) throws -> ClosedRange<UInt64> {
        try appendBatch(batch, at: nil)
    }

    /// Same as `append(_:)`, but throws `.nonContiguous` unless `firstIndex == lastIndex + 1`
    /// (Raft-style appends; truncate a conflicting suffix first).
    @discardableResult
    public func append(_ batch: EntryBatch, at firstIndex: UInt64) throws -> ClosedRange<UInt64> {
        try appendBatch(batch, at: firstIndex)
    }

    /// Makes every appended entry durable (one fdatasync of the active segment; nothing if all is
    /// already durable). Throws `.failed` (and fail-stops the log) if the fdatasync fails.
    public func sync() throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        try syncLocked()
        try writeMarkerLocked()
    }

    /// After a sync, writes a sync marker recording the durable index (not synced itself: it only helps
    /// recovery tell synced frames from a torn tail). Skipped when nothing new is durable or the active
    /// segment has no room; ENOSPC is ignored. Needs `writer`.
    func writeMarkerLocked() throws(LogError) {
        guard synced > lastMarked, synced >= first, let segment = segments.last, !segment.sealed,
            segment.count > 0, fits(segment, bytes: SegmentFormat.frameHeaderSize, entries: 0)
        else { return }
        Frame.writeMarker(writeBuffer, durable: synced, salt: segment.salt)
        do {
            try writeFrames(segment, bytes: SegmentFormat.frameHeaderSize)
        } catch LogError.noSpace {
            return
        }
        state.withWriteLock { segment.dataEnd += SegmentFormat.frameHeaderSize }
        lastMarked = synced
    }

    func appendBatch(_ batch: EntryBatch, at expected: UInt64?) throws -> ClosedRange<UInt64> {
        guard !batch.isEmpty else { throw LogError.invalidArgument("cannot append an empty batch") }
        if options.durability == .groupCommit {
            return try group.submit(batch, expected: expected, hardState: nil, log: self)
        }
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if let expected, expected != last + 1 { throw LogError.nonContiguous(expected: last + 1, found: expected) }
        let start = last + 1
        let error = withUnsafePointer(to: batch) { writeLocked(UnsafeBufferPointer(start: $0, count: 1)).error }
        if let error { throw error }
        let range = start...(start + UInt64(batch.count) - 1)
        if options.durability == .syncEveryAppend { try syncLocked() }
        return range
    }

    /// fdatasync of the active segment if anything is not yet durable (or always, with `force`).
    /// Needs `writer`.
    func syncLocked(force: Bool = false) throws(LogError) {
        guard last > synced || force, let segment = segments.last else {
            setSynced(max(synced, last))
            return
        }
        do { try fs.fdatasync(segment.fd, path: segment.path) } catch { throw failStop(error) }
        setSynced(last)
    }

    /// Whether `bytes` more frame bytes holding `entries` more entries fit in `segment` with its footer.
    @inline(__always)
    func fits(_ segment: Segment, bytes: Int, entries: Int) -> Bool {
        segment.dataEnd + bytes + Footer.size(count: segment.count + entries) <= segment.fileSize
    }

    /// Writes batches in order, as few write(2)s as possible (one per segment touched), publishing them to
    /// readers; batch k gets the indexes after those of batches 0..<k. Returns how many batches were
    /// written and the error that stopped it early (later batches are not written). Needs `writer`.
    func writeLocked(_ batches: UnsafeBufferPointer<EntryBatch>) -> (written: Int, error: LogError?) {
        var i = 0
        while i < batches.count {
            let segment: Segment
            do {
                segment = try prepareSegment(bytes: batches[i].encodedBytes, entries: batches[i].count)
            } catch {
                return (i, error)
            }
            var totalBytes = 0
            var totalEntries = 0
            var j = i
            while j < batches.count,
                j == i || fits(segment, bytes: totalBytes + batches[j].encodedBytes, entries: totalEntries + batches[j].count)
            {
                totalBytes += batches[j].encodedBytes
                totalEntries += batches[j].count
                j += 1
            }
            if totalBytes > writeCapacity {
                var capacity = writeCapacity
                while capacity < totalBytes { capacity *= 2 }
                writeBuffer.deallocate()
                writeBuffer = .allocate(byteCount: capacity, alignment: 8)
                writeCapacity = capacity
            }
            // Copy the batches' frames into the write buffer and seal each frame (index, sync lag, CRC).
            var starts = frameStarts  // a local: no exclusivity checks per entry
            frameStarts = []
            starts.removeAll(keepingCapacity: true)
            defer { frameStarts = starts }
            var position = 0
            var index = last + 1
            let durable = synced
            let salt = segment.salt
            let base = segment.dataEnd
            var runs = pendingRuns  // a local: no exclusivity checks per entry
            pendingRuns = []
            runs.removeAll(keepingCapacity: true)
            defer { pendingRuns = runs }
            var runTerm = terms.lastTerm
            var previousTerm = segment.count > 0 ? runTerm : nil
            var monotonic = segment.monotonicTerms
            for k in i..<j {
                let batch = batches[k]
                let bytes = batch.storage.count
                (writeBuffer + position).copyMemory(from: batch.storage.base, byteCount: bytes)
                for start in batch.starts {
                    let lag = index - durable
                    let frame = writeBuffer + position + start
                    let term = Frame.term(UnsafeRawPointer(frame))
                    if term != runTerm {
                        runs.append((index, term))
                        runTerm = term
                    }
                    if let previous = previousTerm, term < previous { monotonic = false }
                    previousTerm = term
                    Frame.seal(frame, index: index, syncLag: lag > UInt64(UInt32.max) ? UInt32.max : UInt32(lag), salt: salt)
                    starts.append(UInt32(base + position + start))
                    index += 1
                }
                withExtendedLifetime(batch) {}
                position += bytes
            }
            do {
                try writeFrames(segment, bytes: totalBytes)
            } catch {
                return (i, error)
            }
            state.withWriteLock {
                segment.offsets.append(contentsOf: starts)
                segment.dataEnd += totalBytes
                segment.monotonicTerms = monotonic
                for run in runs { terms.append(index: run.index, term: run.term) }
                last = index - 1
            }
            i = j
        }
        return (i, nil)
    }

    /// The active segment with room for `bytes` of frames (`entries` entries): rotates (seal the full
    /// segment, create the next) or grows an empty segment for an oversized batch. Needs `writer`.
    func prepareSegment(bytes: Int, entries: Int) throws(LogError) -> Segment {
        guard bytes + Footer.size(count: entries) + SegmentFormat.headerSize < Int(UInt32.max) else {
            throw LogError.invalidArgument("a batch of \(bytes) bytes does not fit in one segment (4 GiB at most)")
        }
        let needed = SegmentFormat.headerSize + bytes + Footer.size(count: entries)
        if let segment = segments.last, !segment.sealed {
            if fits(segment, bytes: bytes, entries: entries) { return segment }
            if segment.count == 0 {
                try growActive(segment, to: segment.dataEnd + bytes + Footer.size(count: entries))
                return segment
            }
            try seal(segment)
        }
        return try createSegment(baseIndex: last + 1, capacity: max(options.segmentBytes, needed))
    }

    var syncMode: Bool { options.durability != .manual }

    /// Whether writes keep the stretch ahead zero-filled (`LogOptions.zeroFillAhead`).
    var zeroFillsAhead: Bool { (options.zeroFillAhead ?? syncMode) && options.zeroFillAheadBytes > 0 }

    /// Writes the first `bytes` of the write buffer at the segment's data end, zero-filling ahead
    /// (`zeroFillsAhead`). ENOSPC throws `.noSpace` and leaves the log as it was; other write errors fail-stop.
    func writeFrames(_ segment: Segment, bytes: Int) throws(LogError) {
        let offset = segment.dataEnd
        let end = offset + bytes
        if zeroFillsAhead {
            // Keep `zeroFillAheadBytes` zeroed past the end, topped up a step at a time: each top-up's
            // zeros (and the extent conversion they commit) ride in the next fdatasync, so no single sync
            // has to flush a whole megabyte of them.
            let step = max(4096, options.zeroFillStepBytes)
            let wanted = (end + options.zeroFillAheadBytes + step - 1) / step * step
            let stop = min(segment.fileSize, wanted)
            if stop > zeroedEnd {
                let start = max(zeroedEnd, end)
                if stop > start { try writeZeros(segment, from: start, to: stop) }
                zeroedEnd = stop
            }
        }
        // In a recycled file, zero the rest of the old frame this write ends in (same write).
        if segment.staleEnd > 0, let boundary = segment.staleBoundary(atOrAfter: end), boundary > end {
            dirtyUntil = max(dirtyUntil, boundary)
        }
        var length = bytes
        if dirtyUntil > end {
            // A failed write left bytes past the end: overwrite them with zeros in the same write.
            let extra = dirtyUntil - end
            if bytes + extra <= writeCapacity {
                (writeBuffer + bytes).initializeMemory(as: UInt8.self, repeating: 0, count: extra)
                length += extra
            } else {
                try writeZeros(segment, from: end, to: dirtyUntil)
            }
        }
        do {
            try fs.pwrite(segment.fd, UnsafeRawBufferPointer(start: writeBuffer, count: length), at: Int64(offset), path: segment.path)
        } catch {
            if error.errno == ENOSPC {
                dirtyUntil = max(dirtyUntil, offset + length)
                // A partial write may have put complete, valid frames past the end of the data. Cut the
                // file there (freeing blocks needs no space) and make the cut durable before reporting, so
                // that no crash brings back entries of an append that failed; then take the preallocation
                // back if space allows (else the segment ends here until space is freed).
                do {
                    try fs.ftruncate(segment.fd, size: Int64(offset), path: segment.path)
                    try fs.fdatasync(segment.fd, path: segment.path)
                } catch let failure {
                    throw failStop(failure)
                }
                var size = offset
                if (try? fs.preallocate(segment.fd, offset: 0, length: Int64(segment.fileSize), path: segment.path)) != nil {
                    size = segment.fileSize
                }
                state.withWriteLock { segment.fileSize = size }
                segment.staleEnd = 0  // cut with the rest
                zeroedEnd = min(zeroedEnd, offset)
                dirtyUntil = 0
                throw mapError(error)
            }
            throw failStop(error)
        }
        if dirtyUntil <= offset + length { dirtyUntil = 0 }
        if !syncMode && options.writebackChunkBytes > 0 {
            writebackStart = min(writebackStart, offset)
            if end - writebackStart >= options.writebackChunkBytes {
                fs.startWriteback(segment.fd, offset: Int64(writebackStart), length: Int64(end - writebackStart))
                writebackStart = end
            }
        }
    }

    /// Writes zeros over [from, to) of the segment.
    func writeZeros(_ segment: Segment, from: Int, to: Int) throws(LogError) {
        let chunk = 1 << 20
        if zeroBuffer == nil {
            let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk, alignment: 4096)
            buffer.initializeMemory(as: UInt8.self, repeating: 0, count: chunk)
            zeroBuffer = buffer
        }
        var position = from
        while position < to {
            let count = min(chunk, to - position)
            do {
                try fs.pwrite(segment.fd, UnsafeRawBufferPointer(start: zeroBuffer, count: count), at: Int64(position), path: segment.path)
            } catch {
                if error.errno == ENOSPC { throw mapError(error) }
                throw failStop(error)
            }
            position += count
        }
    }
}

extension Log {
    /// Publishes the durable index to readers. Needs `writer`.
    @inline(__always)
    func setSynced(_ value: UInt64) {
        if value != synced { state.withWriteLock { synced = value } }
    }

    /// The highest index known durable (for tests; waits for the writer).
    var durableIndexForTesting: UInt64 { writer.withLock { synced } }
}
