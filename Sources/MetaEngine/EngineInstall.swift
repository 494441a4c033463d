// Installing a leader's snapshot: the bytes arrive through MetaSnapshot's resumable receiver (published
// atomically only once verified), then the state is replaced and the log reset past the snapshot.
//
// Crash safety, step by step: (1) until the receiver publishes, only a `.partial` file exists and opening
// ignores it: the old state; (2) once published, it is the newest snapshot, and opening loads it and makes
// the log continue it (`Recovery.continueLog` drops a conflicting or older log and records the boundary):
// the new state, whether or not step 3 ran; (3) the engine resets the log and swaps the state in memory.

import MetaFSM
import MetaLog
import MetaSnapshot

extension MetaEngine {
    /// A receiver for snapshot `id` sent by a leader (resuming an earlier partial transfer of the same id,
    /// even from before a crash). Feed it pieces with `append(at:_:)`, then `finish()` (which verifies and
    /// publishes), then call `installSnapshot(_:)`. Throws `.snapshot(.alreadyExists)` if it is already
    /// published, `.snapshot(.io)`.
    public func snapshotReceiver(for id: SnapshotID) throws -> SnapshotReceiver {
        do {
            return try storeLock.withLock { try store.receiver(for: id) }
        } catch {
            throw EngineError.wrap(error)
        }
    }

    /// Replaces the state with published snapshot `id` (received with `snapshotReceiver(for:)`) and resets
    /// the log to continue at `id.index + 1` (entries after it are kept if the log holds `id.index` with
    /// `id.term`, as Raft's InstallSnapshot asks). Waiters for indexes up to `id.index` are answered
    /// (`applied` ones with `.resultUnavailable`). Does nothing and returns false when the state is already
    /// at or past `id.index`. Throws `.snapshotKindMismatch`, `.restoreFailed`, `.snapshot`, `.log`,
    /// `.closed`, `.failed`; on a throw before the log reset the old state stays.
    /// Cost: reading the snapshot once; the apply loop waits meanwhile.
    @discardableResult
    public func installSnapshot(_ id: SnapshotID) throws -> Bool {
        try applyGate.withLock {
            try mu.withLock { try checkUsable() }
            if mu.withLock({ curApplied >= id.index }) { return false }
            do {
                let (fresh, members) = try storeLock.withLock { () throws -> (M, [UInt8]) in
                    let reader = try store.open(id)
                    try Recovery<M>.checkKind(reader.meta, file: id.fileName, machine: M.self)
                    var m = machine
                    var source = reader
                    do { try m.restoreSnapshot(from: &source) } catch let e as SnapshotError { throw e } catch {
                        throw EngineError.restoreFailed(file: id.fileName, reason: "\(error)")
                    }
                    _ = try store.retain(newest: options.retainSnapshots)
                    return (m, reader.meta.membership)
                }
                try hardStateLock.withLock {
                    var h = mu.withLock { host }
                    h.commit = max(h.commit, mu.withLock { curCommit })
                    if try !Recovery<M>.continueLog(log, after: id, host: &h) {
                        h.commit = max(h.commit, id.index)
                        try log.saveHardState(h.hardState)
                    }
                    mu.withLock { host = h }
                }
                stateLock.withWriteLock {
                    machine = fresh
                    membership = members
                }
                let ready: [(Waiter, Result<M.ApplyResult?, EngineError>)] = mu.withLock {
                    curApplied = id.index
                    curAppliedTerm = id.term
                    curCommit = max(curCommit, id.index)
                    curDurable = log.lastIndex
                    ringLow = id.index + 1
                    if latestSnapshot.map({ $0 < id }) ?? true { latestSnapshot = id }
                    entriesSinceSnapshot = 0
                    bytesSinceSnapshot = 0
                    applyWake.signal()
                    return takeReadyWaiters()
                }
                for (w, r) in ready { w.resume(r) }
                logger.info("snapshot installed", metadata: ["snapshot": "\(id.fileName)", "log_first": "\(log.firstIndex)"])
                return true
            } catch {
                let e = EngineError.wrap(error)
                logger.error("snapshot install failed", metadata: ["snapshot": "\(id.fileName)", "error": "\(e)"])
                throw e
            }
        }
    }

    /// Size in bytes of published snapshot `id` (for a leader sending it). Throws `.snapshot(.notFound)`.
    public func snapshotFileSize(_ id: SnapshotID) throws -> UInt64 {
        do { return try storeLock.withLock { try store.fileSize(of: id) } } catch { throw EngineError.wrap(error) }
    }

    /// Up to `count` stored bytes of published snapshot `id` from `offset`, to send to a follower's
    /// receiver. Throws `.snapshot(.notFound)`, `.snapshot(.rangeOutOfBounds)`.
    public func snapshotBytes(_ id: SnapshotID, offset: UInt64, count: Int) throws -> [UInt8] {
        do { return try storeLock.withLock { try store.readRaw(id, offset: offset, count: count) } } catch {
            throw EngineError.wrap(error)
        }
    }

    /// Published snapshots, newest first.
    public func snapshots() throws -> [SnapshotID] {
        do { return try storeLock.withLock { try store.list() } } catch { throw EngineError.wrap(error) }
    }
}
