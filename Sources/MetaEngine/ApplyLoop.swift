// The apply loop: its own thread applies committed, durable entries in order, in batches, under the state
// lock (readers wait at most one batch), keeps each result for waiters, wakes them, and starts automatic
// snapshots. Never on the append path: the writer signals it, and applies a group itself only when the group
// is small, nothing is queued behind it and this thread sleeps (`EngineOptions.inlineApplyEntries`).

import MetaFSM
import MetaLog

extension MetaEngine {
    func applyLoop() {
        var results: [M.ApplyResult?] = []
        results.reserveCapacity(options.applyBatchEntries)
        while true {
            let go: Bool = mu.withLock {
                applyThreadIdle = true
                while !closing && failure == nil && !applyWorkLocked {
                    applyWake.wait(mu)
                }
                applyThreadIdle = false
                return !closing && failure == nil
            }
            if !go { return }
            applyGate.withLock { applyOnce(&results) }
        }
    }

    /// Whether the apply loop has something to do: committed, durable entries not applied yet, or a
    /// snapshot due or asked for while none is being written. Needs `mu`.
    var applyWorkLocked: Bool {
        unappliedLocked > 0 || ((snapshotRequested || snapshotDueLocked) && !snapshotInProgress)
    }

    /// Committed, durable entries not applied yet. Needs `mu`.
    var unappliedLocked: UInt64 { min(curCommit, curDurable) &- curApplied }

    /// Applies one batch (if any is ready), publishes progress and results, wakes waiters, starts a
    /// snapshot when one is due. Needs `applyGate`. Runs on the apply thread, or on the writer thread for
    /// a small group (`EngineOptions.inlineApplyEntries`).
    func applyOnce(_ results: inout [M.ApplyResult?]) {
        let (from, target) = mu.withLock { (curApplied + 1, min(curCommit, curDurable)) }
        if from <= target {
            let t0 = monotonicNanos()
            let batch: EntryBatch
            do {
                batch = try log.read(from: from, maxCount: Int(min(target - from + 1, UInt64(options.applyBatchEntries))))
            } catch {
                fail(EngineError.wrap(error))
                return
            }
            let outcome = stateLock.withWriteLock {
                applyEntries(batch, to: &machine, membership: &membership, results: &results)
            }
            let last = from + UInt64(batch.count) - 1
            let ready: [(Waiter, Result<M.ApplyResult?, EngineError>)] = mu.withLock {
                let cap = UInt64(ring.count)
                for (k, r) in results.enumerated() { ring[Int((from + UInt64(k)) % cap)] = r }
                curApplied = last
                curAppliedTerm = outcome.term
                entriesSinceSnapshot += UInt64(batch.count)
                bytesSinceSnapshot += outcome.bytes
                metrics.appliedIndex.record(Int64(last))
                metrics.applyLag.record(Int64(curCommit &- last))
                return takeReadyWaiters()
            }
            metrics.appliedEntries.increment(by: batch.count)
            metrics.applyLatency.recordNanoseconds(Int64(monotonicNanos() - t0))
            resume(ready)
        }
        maybeStartSnapshot()
    }

    /// Answers applied waiters. Callbacks run here, on the thread that applied (see `applyOnce`).
    /// Suspended tasks (two or more) are resumed from one task on Swift's executor instead: each resume
    /// from this thread wakes a pool thread (a futex wake, ~6 us here), while resumes from a running pool
    /// thread only queue the tasks, so the apply loop goes back to applying after one hand-off instead of
    /// one per caller.
    private func resume(_ ready: [(Waiter, Result<M.ApplyResult?, EngineError>)]) {
        var tasks = 0
        for (w, r) in ready {
            if w.resumesTask { tasks += 1 } else { w.resume(r) }
        }
        if tasks == 0 { return }
        if tasks == 1 {
            for (w, r) in ready where w.resumesTask { w.resume(r) }
            return
        }
        nonisolated(unsafe) let handOff = ready
        Task.detached {
            for (w, r) in handOff where w.resumesTask { w.resume(r) }
        }
    }

    /// Removes and returns every waiter whose index is applied, with its outcome. Needs `mu`.
    func takeReadyWaiters() -> [(Waiter, Result<M.ApplyResult?, EngineError>)] {
        if waiters.isEmpty { return [] }
        var ready: [(Waiter, Result<M.ApplyResult?, EngineError>)] = []
        var keep: [Waiter] = []
        keep.reserveCapacity(waiters.count)
        for w in waiters {
            if w.index <= curApplied {
                ready.append((w, w.wantsResult ? resultLocked(w.index) : .success(nil)))
            } else {
                keep.append(w)
            }
        }
        waiters = keep
        return ready
    }

    /// The kept result of applied entry `index`. Needs `mu`.
    func resultLocked(_ index: UInt64) -> Result<M.ApplyResult?, EngineError> {
        let cap = UInt64(ring.count)
        guard index >= ringLow, index <= curApplied, curApplied - index < cap else {
            return .failure(.resultUnavailable(index: index))
        }
        return .success(ring[Int(index % cap)])
    }
}
