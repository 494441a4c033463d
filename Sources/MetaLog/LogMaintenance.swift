extension Log {
    /// Drops every entry after `index` (a Raft log conflict); durable before it returns. Whole segments
    /// past `index` are deleted newest first (sealed ones kept as spares up to `recycleSegments`, as
    /// `removePrefix` keeps its), each unlink or rename made durable (directory fsync) before the next,
    /// so a crash never leaves a gap between segments; the segment holding `index` gets a truncation
    /// record after its frames and becomes the active segment again. `index >= lastIndex` does nothing; `index < firstIndex - 1`
    /// throws `.compacted`; with `LogOptions.protectCommitted`, dropping an entry at or below the hard
    /// state's commit index throws `.wouldTruncateCommitted(index: index + 1, commit:)` and changes
    /// nothing. Cost: one directory fsync per segment removed plus one fdatasync.
    public func truncate(after index: UInt64) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if index >= last { return }
        if index + 1 < first { throw LogError.compacted(index: index, firstIndex: first) }
        if options.protectCommitted && index + 1 <= hard.commit {
            throw LogError.wouldTruncateCommitted(index: index + 1, commit: hard.commit)
        }
        try truncateLocked(after: index)
    }

    /// `truncate(after:)` without the checks, durable on return. Needs `writer`; `first - 1 <= index < last`.
    func truncateLocked(after index: UInt64) throws(LogError) {
        if try cutLocked(after: index) { try syncLocked(force: true) }
    }

    /// Drops the entries after `index`: deletes whole segments past it (newest first, each unlink made
    /// durable before the next, so a crash never leaves a gap), then writes a truncation record after the
    /// frames of the segment holding `index` (not synced: returns true when the caller must sync). The old
    /// frames are never overwritten or cut, so a crash before the sync leaves them intact: recovery then
    /// finds the old log or the truncated one, never damage. Needs `writer`.
    func cutLocked(after index: UInt64) throws(LogError) -> Bool {
        // The newest hard state must not go with a deleted segment: checkpoint it to its file first.
        if let location = hardLocation, let holder = segments.first(where: { $0.id == location.segment }), holder.baseIndex > index {
            try checkpointHardStateLocked()
        }
        while let segment = segments.last, segment.baseIndex > index {
            state.withWriteLock {
                segments.removeLast()
                last = min(last, segment.baseIndex - 1)
                terms.truncate(after: last)
            }
            segment.release(fs)
            // A sealed one may be kept as a spare: renamed like an unlink, durable the same way, and its
            // frames never read again (their CRCs are seeded with its salt, which no later segment has).
            try discard(segment)
            do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        }
        var wrote = false
        if let segment = segments.last, segment.endIndex - 1 > index {
            if segment.sealed {
                // Append after the frames again: the footer is overwritten by the record and zeros, and
                // the file grows back to a full segment (a crash keeps either the valid footer, or a
                // damaged one that opening treats as a torn tail).
                let oldSize = segment.fileSize
                try growActive(segment, to: max(options.segmentBytes, segment.dataEnd + 2 * SegmentFormat.frameHeaderSize
                                                    + Footer.size(count: segment.count)))
                state.withWriteLock { segment.sealed = false }
                dirtyUntil = max(dirtyUntil, oldSize)
                zeroedEnd = max(segment.dataEnd, oldSize)
                writebackStart = segment.dataEnd
            } else if !fits(segment, bytes: SegmentFormat.frameHeaderSize, entries: 0) {
                try growActive(segment, to: segment.dataEnd + SegmentFormat.frameHeaderSize + Footer.size(count: segment.count))
            }
            let newSynced = min(synced, index)
            let lag = index - newSynced
            Frame.writeTruncation(writeBuffer, after: index, syncLag: lag > UInt64(UInt32.max) ? UInt32.max : UInt32(lag),
                                  salt: segment.salt)
            setSynced(newSynced)
            lastMarked = min(lastMarked, index)
            try writeFrames(segment, bytes: SegmentFormat.frameHeaderSize)
            // The offsets and `last` change together: a reader that saw the old `last` with the cut
            // offsets indexed past their end (the debug suite trapped so about once in ten runs).
            state.withWriteLock {
                segment.offsets.removeSubrange(Int(index + 1 - segment.baseIndex)...)
                segment.dataEnd += SegmentFormat.frameHeaderSize
                last = min(last, index)
                terms.truncate(after: index)
            }
            wrote = true
        }
        state.withWriteLock {
            last = min(last, index)
            terms.truncate(after: index)
        }
        setSynced(min(synced, index))
        lastMarked = min(lastMarked, index)
        return wrote
    }

    /// Drops every entry through `index` (after a snapshot that covers them): records the new first
    /// index `index + 1` and the term of `index` (the boundary `term(at: firstIndex - 1)` answers)
    /// durably (atomic file replacement), then deletes segments that hold only dropped entries. `index`
    /// may be past `lastIndex`: the log becomes empty and continues at `index + 1`, with boundary term 0
    /// (unknown; `reset(after:term:)` is the call that installs a snapshot with its term).
    /// Dropped sealed segments are kept as spares for new segments (`LogOptions.recycleSegments`).
    /// `index < firstIndex` does nothing. Cost: three syncs plus one directory fsync.
    public func removePrefix(through index: UInt64) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if index < first { return }
        let emptied = index >= last
        let boundary = index <= last ? (terms.term(at: index) ?? 0) : 0
        if emptied && hardLocation != nil { try checkpointHardStateLocked() }
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.firstIndexName,
                                  bytes: MetaFiles.encodeFirstIndex(index + 1, boundaryTerm: boundary))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        state.withWriteLock {
            first = index + 1
            boundaryTerm = boundary
            if emptied { last = index }
        }
        var removed = false
        while let segment = segments.first, segment.endIndex <= index + 1 || emptied {
            if !emptied && segment === segments.last { break }
            state.withWriteLock { _ = segments.removeFirst() }
            segment.release(fs)
            try discard(segment)
            removed = true
        }
        state.withWriteLock {
            if let firstSegment = segments.first { terms.dropRuns(before: firstSegment.baseIndex) } else { terms.removeAll() }
        }
        if removed {
            do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        }
        if emptied {
            setSynced(index)
            dirtyUntil = 0
        }
    }
}
