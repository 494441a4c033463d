extension Log {
    /// Drops every entry after `index` (a Raft log conflict); durable before it returns. Whole segments
    /// past `index` are deleted (newest first, then the directory is synced); the segment holding `index`
    /// is cut after it and becomes the active segment again. `index >= lastIndex` does nothing;
    /// `index < firstIndex - 1` throws `.compacted`. Cost: O(segments removed) plus two syncs.
    public func truncate(after index: UInt64) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if index >= last { return }
        if index + 1 < first { throw LogError.compacted(index: index, firstIndex: first) }
        // Delete whole segments after `index`, newest first.
        var removed = false
        while let segment = segments.last, segment.baseIndex > index {
            state.withWriteLock {
                segments.removeLast()
                last = min(last, segment.baseIndex - 1)
            }
            segment.release(fs)
            do { try fs.unlink(segment.path) } catch { throw mapError(error) }
            removed = true
        }
        if removed {
            do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        }
        if let segment = segments.last, segment.endIndex - 1 > index {
            let cut = Int(segment.offsets[Int(index + 1 - segment.baseIndex)])
            state.withWriteLock {
                segment.offsets.removeSubrange(Int(index + 1 - segment.baseIndex)...)
                segment.dataEnd = cut
                last = index
            }
            try cutTail(segment, at: cut)
        } else if let segment = segments.last, segment.sealed == false {
            zeroedEnd = min(zeroedEnd, segment.dataEnd)
        }
        state.withWriteLock { last = index }
        durableIndex = min(durableIndex, index)
        lastMarked = min(lastMarked, index)
    }

    /// Drops every entry through `index` (after a snapshot that covers them): records the new first
    /// index `index + 1` durably (atomic file replacement), then deletes segments that hold only
    /// dropped entries. `index` may be past `lastIndex`: the log becomes empty and continues at
    /// `index + 1`. `index < firstIndex` does nothing.
    public func removePrefix(through index: UInt64) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if index < first { return }
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.firstIndexName, bytes: MetaFiles.encodeFirstIndex(index + 1))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        let emptied = index >= last
        state.withWriteLock {
            first = index + 1
            if emptied { last = index }
        }
        var removed = false
        while let segment = segments.first, segment.endIndex <= index + 1 || emptied {
            if !emptied && segment === segments.last { break }
            state.withWriteLock { _ = segments.removeFirst() }
            segment.release(fs)
            do { try fs.unlink(segment.path) } catch { throw mapError(error) }
            removed = true
        }
        if removed {
            do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        }
        if emptied {
            durableIndex = index
            dirtyUntil = 0
        }
    }

    /// Stores `state` atomically and durably (temporary file, fsync, rename, directory fsync): after a
    /// crash either the old or the new hard state is read back, never a mix. A failed fsync fail-stops
    /// the log; ENOSPC throws `.noSpace` and keeps the old state.
    public func saveHardState(_ newState: HardState) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        guard newState.context.count < Int(UInt32.max) - 64 else {
            throw LogError.invalidArgument("hard-state context of \(newState.context.count) bytes is too large")
        }
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.hardStateName, bytes: MetaFiles.encode(newState))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        state.withWriteLock { hard = newState }
    }
}
