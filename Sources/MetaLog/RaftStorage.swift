// The Raft storage contract (etcd raft's Storage, hashicorp/raft's LogStore/StableStore): term lookups
// from memory, the durable index, conflict overwrite and hard state in one sync, snapshot reset.

extension Log {
    /// Index of the last entry known durable on disk (0 when none): entries up to it survive a power
    /// loss. `lastIndex` may be ahead of it (entries written but not yet synced, e.g. in manual
    /// durability, or while a group commit's fdatasync runs). Cost: a read lock.
    public var durableIndex: UInt64 { state.withReadLock { synced } }

    /// The term of entry `index`, O(1) for the last run of terms (a binary search over runs otherwise),
    /// from an in-memory run-length table: never touches a payload or the disk. Valid for
    /// `firstIndex - 1 ... lastIndex`: `firstIndex - 1` answers the boundary term (kept durably with the
    /// first index by `removePrefix(through:)` and `reset(after:term:)`; 0 for a brand-new log).
    /// Throws `.compacted` below that range, `.unavailable` above it, `.closed`, `.failed`.
    public func term(at index: UInt64) throws -> UInt64 {
        try state.withReadLock { () throws(LogError) -> UInt64 in
            try checkUsable()
            if index == first &- 1 { return boundaryTerm }
            if index < first { throw LogError.compacted(index: index, firstIndex: first) }
            if index > last { throw LogError.unavailable(index: index, lastIndex: last) }
            guard let term = terms.term(at: index) else {
                throw LogError.corruption(file: segments.first?.name ?? "", offset: 0, index: index, reason: "no term recorded for this index")
            }
            return term
        }
    }

    /// Raft append: `firstIndex` may be at most `lastIndex + 1`; existing entries at `>= firstIndex` are
    /// replaced (conflict overwrite). `hardState`, when given, becomes durable together with the entries
    /// (a hard-state record written after them in the active segment). One durable sync for the whole
    /// call per the durability policy (none in manual durability: both are durable after `sync()`); a
    /// conflict is written as a truncation record plus the new frames, so it too costs one fdatasync,
    /// plus one directory fsync per newer segment it deletes when it reaches into sealed segments.
    /// Throws `.wouldTruncateCommitted(index: firstIndex, commit:)` when `LogOptions.protectCommitted` and
    /// an entry at or below the hard state's commit index would be replaced; `.nonContiguous` when
    /// `firstIndex > lastIndex + 1` or `firstIndex < self.firstIndex` (compacted); `.invalidArgument`
    /// for an empty batch; `.noSpace`, `.failed`, `.closed` like `append(_:)`. Nothing changes on a throw
    /// before the write.
    @discardableResult
    public func append(_ batch: EntryBatch, at firstIndex: UInt64, hardState: HardState?) throws -> ClosedRange<UInt64> {
        guard !batch.isEmpty else { throw LogError.invalidArgument("cannot append an empty batch") }
        if options.durability == .groupCommit {
            // The usual follower append (at the end) shares the group's sync; a conflict takes the lock.
            let next = state.withReadLock { last + 1 }
            if firstIndex == next { return try group.submit(batch, expected: firstIndex, hardState: hardState, log: self) }
        }
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        try prepareAppendLocked(at: firstIndex)
        let start = last + 1
        let error = withUnsafePointer(to: batch) { writeLocked(UnsafeBufferPointer(start: $0, count: 1)).error }
        if let error { throw error }
        let range = start...(start + UInt64(batch.count) - 1)
        var recorded = false
        if let hardState { recorded = try writeHardStateLocked(hardState) }
        if options.durability != .manual { try syncLocked(force: recorded) }
        return range
    }

    /// The same, for async callers: requests join the group commit queue without a blocked thread per
    /// caller (a thousand concurrent proposers need no thousand threads: the one that finds no group in
    /// progress writes and syncs for everyone queued; the others are suspended continuations). With
    /// `firstIndex` nil the entries go at the end. Outside group-commit durability it runs the
    /// synchronous append on the caller's task. Throws like `append(_:at:hardState:)`.
    @discardableResult
    public func appendAsync(_ batch: EntryBatch, at firstIndex: UInt64? = nil, hardState: HardState? = nil) async throws
        -> ClosedRange<UInt64>
    {
        guard !batch.isEmpty else { throw LogError.invalidArgument("cannot append an empty batch") }
        if options.durability == .groupCommit {
            let next = state.withReadLock { last + 1 }
            if firstIndex == nil || firstIndex == next {
                return try await group.submitAsync(batch, expected: firstIndex, hardState: hardState, log: self)
            }
        }
        if let firstIndex { return try append(batch, at: firstIndex, hardState: hardState) }
        let range = try append(batch)
        if let hardState { try saveHardState(hardState) }
        return range
    }

    /// Stores `state` durably: one write (a hard-state record in the active segment) and one fdatasync,
    /// which also makes every appended entry durable. When there is no active segment or it has no room,
    /// the `hardstate` file is replaced instead (temporary file, fsync, rename, directory fsync). After
    /// a crash either the old or the new hard state is read back, never a mix. A failed fsync fail-stops
    /// the log; ENOSPC throws `.noSpace` and keeps the old state.
    public func saveHardState(_ newState: HardState) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if try writeHardStateLocked(newState) { try syncLocked(force: true) }
    }

    /// Drops every entry; the log continues at `index + 1` and `term(at: index) == term`. Durable on
    /// return (for installing a snapshot): entries after `index` are dropped first (like `truncate`),
    /// then the first index and boundary term are recorded, then the remaining segments go. A crash
    /// leaves the old log, a prefix of it through at least `index`, or the reset log. `index` below
    /// `firstIndex - 1` is not supported (entries between would come back). Throws `.closed`, `.failed`,
    /// `.io`. Cost: a few syncs plus one directory fsync per segment past `index`.
    public func reset(after index: UInt64, term: UInt64) throws {
        writer.lock()
        defer { writer.unlock() }
        try checkUsable()
        if hardLocation != nil { try checkpointHardStateLocked() }
        // Entries after `index` go first (segments past it deleted durably, a truncation record in the
        // one holding it), so that no crash state brings them back under the new first index.
        if index < last && index + 1 >= first {
            if try cutLocked(after: index) { try syncLocked(force: true) }
        }
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.firstIndexName,
                                  bytes: MetaFiles.encodeFirstIndex(index + 1, boundaryTerm: term))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        let doomed = segments
        state.withWriteLock {
            segments.removeAll()
            first = index + 1
            last = index
            boundaryTerm = term
            terms.removeAll()
        }
        for segment in doomed {
            segment.release(fs)
            // Wholly below the durable new first index: sealed ones may stay as spares, as removePrefix's do.
            try discard(segment)
        }
        if !doomed.isEmpty {
            do { try fs.syncDirectory(directory) } catch { throw failStop(error) }
        }
        setSynced(index)
        lastMarked = index
        dirtyUntil = 0
    }

    /// Checks an append at `firstIndex` and, for a conflict, drops the entries from `firstIndex` on.
    /// Needs `writer`.
    func prepareAppendLocked(at firstIndex: UInt64) throws(LogError) {
        if firstIndex == last + 1 { return }
        if firstIndex > last + 1 || firstIndex < first { throw LogError.nonContiguous(expected: last + 1, found: firstIndex) }
        if options.protectCommitted && firstIndex <= hard.commit {
            throw LogError.wouldTruncateCommitted(index: firstIndex, commit: hard.commit)
        }
        // A truncation record after the old frames (which stay intact until it is durable); the
        // append's own sync makes both durable. Segments wholly past it are deleted durably first.
        _ = try cutLocked(after: firstIndex - 1)
    }

    /// Writes `newState` as a hard-state record in the active segment (not synced: returns true, the
    /// caller syncs) or, without an active segment with room, replaces the `hardstate` file durably
    /// (returns false). Publishes it. Needs `writer`.
    func writeHardStateLocked(_ newState: HardState) throws(LogError) -> Bool {
        guard newState.context.count < Int(UInt32.max) - 64 else {
            throw LogError.invalidArgument("hard-state context of \(newState.context.count) bytes is too large")
        }
        let size = Frame.hardStateRecordSize(newState)
        let seq = hardSeq + 1
        if let active = segments.last, !active.sealed, size <= writeCapacity, fits(active, bytes: size, entries: 0) {
            let lag = last - min(synced, last)
            Frame.writeHardState(writeBuffer, newState, seq: seq, lastIndex: last,
                                 syncLag: lag > UInt64(UInt32.max) ? UInt32.max : UInt32(lag), salt: active.salt)
            let offset = active.dataEnd
            try writeFrames(active, bytes: size)
            state.withWriteLock {
                active.dataEnd += size
                hard = newState
            }
            hardSeq = seq
            hardLocation = (active.id, offset)
            return true
        }
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.hardStateName, bytes: MetaFiles.encode(newState, seq: seq))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        state.withWriteLock { hard = newState }
        hardSeq = seq
        hardLocation = nil
        return false
    }

    /// Copies the current hard state (with its seq) into the `hardstate` file, durably, before the
    /// record holding it is cut or deleted. Needs `writer`.
    func checkpointHardStateLocked() throws(LogError) {
        do {
            try MetaFiles.replace(fs, directory: directory, name: MetaFiles.hardStateName, bytes: MetaFiles.encode(hard, seq: hardSeq))
        } catch {
            throw error.wasSync ? failStop(error.error) : mapError(error.error)
        }
        hardLocation = nil
    }
}
