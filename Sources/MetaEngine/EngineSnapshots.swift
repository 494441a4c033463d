// Snapshots: automatic (every N entries or B bytes applied) and manual, written in the background from a
// frozen copy of the state while the apply loop goes on, published atomically; then the log is compacted
// behind the snapshot keeping a trailing window, and old snapshots are removed past the retention count.
//
// Consistency: `M` has value semantics. The apply loop, between two batches, copies its `M` value (an O(1)
// retain of the value's copy-on-write buffers) plus the membership bytes and applied index/term; that
// copy is frozen: the snapshot thread streams it into the snapshot file while the apply loop keeps
// mutating its own value, whose buffers are copied the first time each is written after the freeze. The
// pause the apply loop sees is the freeze itself (reported in `progress.lastSnapshotPauseNanos` and the
// `snapshot_pause_seconds` timer) plus that first copy of each touched buffer.

import Logging
import MetaFSM
import MetaLog
import MetaSnapshot

extension MetaEngine {
    /// Takes a snapshot of the applied state now (waiting for one in progress first) and returns its id
    /// once published and the log compacted. If nothing was applied since the newest snapshot, returns
    /// that one. Throws `.closed`, `.failed`, `.snapshot` (write errors), `.log` (compaction errors).
    public func snapshot() async throws -> SnapshotID {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<SnapshotID, Error>) in
            requestSnapshot { c.resume(with: $0.mapError { $0 as Error }) }
        }
    }

    /// Blocking form of `snapshot()`. Throws the same.
    public func snapshotSync() throws -> SnapshotID {
        let box = BlockingBox<Result<SnapshotID, EngineError>>()
        requestSnapshot { box.put($0) }
        return try box.take().get()
    }

    private func requestSnapshot(_ done: @escaping SnapshotCallback) {
        let refused: EngineError? = mu.withLock {
            if closing { return .closed }
            if let failure { return failure }
            snapshotCallbacks.append(done)
            snapshotRequested = true
            applyWake.signal()
            return nil
        }
        if let refused { done(.failure(refused)) }
    }

    /// Whether enough was applied since the last snapshot for an automatic one. Needs `mu`.
    var snapshotDueLocked: Bool {
        (options.snapshotEveryEntries > 0 && entriesSinceSnapshot >= options.snapshotEveryEntries)
            || (options.snapshotEveryBytes > 0 && bytesSinceSnapshot >= options.snapshotEveryBytes)
    }

    /// Starts a snapshot if one is due or asked for and none is running. Runs on the apply loop (holding
    /// `applyGate`), between batches.
    func maybeStartSnapshot() {
        let t0 = monotonicNanos()
        var answered: [SnapshotCallback] = []
        var existing: SnapshotID?
        let start: (index: UInt64, term: UInt64)? = mu.withLock {
            guard !snapshotInProgress, !closing, failure == nil else { return nil }
            guard snapshotDueLocked || snapshotRequested else { return nil }
            snapshotRequested = false
            if curApplied == 0 || latestSnapshot?.index == curApplied {
                // Nothing new: answer manual requests with what exists.
                answered = snapshotCallbacks
                snapshotCallbacks = []
                existing = latestSnapshot
                entriesSinceSnapshot = 0
                bytesSinceSnapshot = 0
                return nil
            }
            snapshotInProgress = true
            // Callers waiting now get this snapshot; later requests get the next one.
            answered = snapshotCallbacks
            snapshotCallbacks = []
            entriesSinceSnapshot = 0
            bytesSinceSnapshot = 0
            return (curApplied, curAppliedTerm)
        }
        guard let start else {
            for c in answered {
                if let existing { c(.success(existing)) } else { c(.failure(.invalidArgument("nothing applied yet to snapshot"))) }
            }
            return
        }
        let waiting = answered
        // The previous snapshot thread has finished its work (no snapshot is in progress): reap it.
        let previous: [EngineThread] = mu.withLock {
            defer { snapshotThreads.removeAll() }
            return snapshotThreads
        }
        for t in previous { t.join() }
        // The freeze: a copy of the value (copy-on-write buffers retained) and the membership bytes.
        let frozen = machine
        let frozenMembership = membership
        let pause = monotonicNanos() - t0
        metrics.snapshotPause.recordNanoseconds(Int64(pause))
        let meta = SnapshotMeta(
            stateMachineKind: M.kind, stateMachineVersion: M.snapshotVersion, lastIndex: start.index,
            lastTerm: start.term, membership: frozenMembership, createdAtNanos: Int64(realtimeNanos()))
        do {
            let thread = try EngineThread(role: "snapshot", refuse: options.refuseThread) { [unowned self] in
                self.writeSnapshot(frozen, meta: meta, pauseNanos: pause, startedAt: t0, waiting: waiting)
            }
            mu.withLock { snapshotThreads.append(thread) }
        } catch {
            // No snapshot this time; the engine goes on and the next due point or request tries again.
            mu.withLock { snapshotInProgress = false }
            logger.error("snapshot not started", metadata: ["index": "\(meta.lastIndex)", "error": "\(error)"])
            for c in waiting { c(.failure(error)) }
        }
    }

    /// The snapshot thread: write, publish, retain, compact, then answer callers.
    private func writeSnapshot(_ frozen: M, meta: SnapshotMeta, pauseNanos: UInt64, startedAt: UInt64,
                               waiting: [SnapshotCallback]) {
        var result: Result<SnapshotID, EngineError>
        do {
            let id = try storeLock.withLock { () throws -> SnapshotID in
                if try store.list().contains(meta.id) { return meta.id }
                let writer = try store.create(meta, options: options.snapshotWriter)
                var sink = writer
                do {
                    try frozen.writeSnapshot(to: &sink)
                } catch {
                    try? store.abandon(writer)
                    throw error
                }
                let id = try store.publish(writer)
                let size = try store.fileSize(of: id)
                metrics.snapshotBytes.record(Int64(size))
                _ = try store.retain(newest: options.retainSnapshots)
                return id
            }
            try compact(through: meta.lastIndex)
            result = .success(id)
            let took = monotonicNanos() - startedAt
            metrics.snapshotDuration.recordNanoseconds(Int64(took))
            logger.info("snapshot published", metadata: [
                "snapshot": "\(id.fileName)", "pause_ns": "\(pauseNanos)", "took_ns": "\(took)",
            ])
        } catch {
            result = .failure(EngineError.wrap(error))
            logger.error("snapshot failed", metadata: ["index": "\(meta.lastIndex)", "error": "\(error)"])
        }
        mu.withLock {
            snapshotInProgress = false
            if case let .success(id) = result {
                if latestSnapshot.map({ $0 < id }) ?? true { latestSnapshot = id }
                lastSnapshotPauseNanos = pauseNanos
                lastSnapshotNanos = monotonicNanos() - startedAt
            }
            applyWake.signal()
        }
        for c in waiting { c(result) }
    }

    /// Drops log entries through `index` now (hashicorp/raft's `DeleteRange` of a prefix after its own
    /// snapshot); the engine also does this by itself after each snapshot. Throws `.invalidArgument` when
    /// `index` is past the newest published snapshot (the entries would be lost on a restart), `.log`.
    public func compactLog(through index: UInt64) throws {
        let newest = mu.withLock { latestSnapshot?.index ?? 0 }
        guard index <= newest else {
            throw EngineError.invalidArgument("cannot compact through \(index): the newest snapshot covers only \(newest)")
        }
        guard index >= log.firstIndex else { return }
        do { try log.removePrefix(through: Swift.min(index, log.lastIndex)) } catch { throw EngineError.wrap(error) }
    }

    /// Drops log entries through `snapshotIndex - trailingEntries` (the log keeps the boundary's term
    /// durably, so `term(at: firstIndex - 1)` still answers).
    func compact(through snapshotIndex: UInt64) throws {
        guard snapshotIndex > options.trailingEntries else { return }
        let through = snapshotIndex - options.trailingEntries
        guard through >= log.firstIndex, through <= log.lastIndex else { return }
        try log.removePrefix(through: through)
    }
}

/// Answers a snapshot request (from any thread).
typealias SnapshotCallback = @Sendable (Result<SnapshotID, EngineError>) -> Void
