// The append path: host appends queue here and the writer thread writes every queued batch, then makes
// them durable with one fdatasync (group commit without a thread per caller). Conflicting suffixes are
// overwritten Raft-style; committed entries never are.

import MetaFSM
import MetaLog

/// One queued append.
struct WriteOp {
    /// nil: at the log's next index (a leader's proposal); else where the batch's first entry goes.
    var at: UInt64?
    var batch: EntryBatch
    /// Set for a truncation (drop every entry after it) instead of an append; `batch` is then empty.
    var truncateAfter: UInt64? = nil
    var done: (Result<ClosedRange<UInt64>, EngineError>) -> Void
}

extension MetaEngine {
    // MARK: Host calls

    /// Appends `batch` at the log's next index (a leader's proposals) and returns the indexes it got once
    /// they are durable. Concurrent callers share one fdatasync. With `commitOnDurable` the entries are then
    /// committed too. Throws `.closed`, `.failed`, `.log` (`.noSpace`, ...), `.invalidArgument` for an empty batch.
    /// Cost: one write(2) per group of queued batches and one fdatasync per group.
    public func propose(_ batch: EntryBatch) async throws -> ClosedRange<UInt64> {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<ClosedRange<UInt64>, Error>) in
            enqueue(WriteOp(at: nil, batch: batch) { c.resume(with: $0.mapError { $0 as Error }) })
        }
    }

    /// Proposes `batch` like `propose(_:)` and returns once its last entry is applied too, with the
    /// indexes and the state machine's result for that last entry: what a leader host answers its client
    /// with. The waiter is registered by the writer when the entries are durable, so the caller is resumed
    /// once (not once for durability and again for the result). Not cancellable once queued (the entry is
    /// in the log either way). Throws what `propose(_:)` and `applied(_:)` throw (`.resultUnavailable`
    /// when the result left `resultWindow` before the caller ran, `.closed`, `.failed`, `.log`).
    /// Cost: that of `propose(_:)`; one waiter registration.
    public func proposeAndWait(_ batch: EntryBatch) async throws -> (indexes: ClosedRange<UInt64>, result: M.ApplyResult?) {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<(indexes: ClosedRange<UInt64>, result: M.ApplyResult?), Error>) in
            enqueue(WriteOp(at: nil, batch: batch) { [self] outcome in
                switch outcome {
                case .failure(let e): c.resume(throwing: e)
                case .success(let range):
                    addWaiter(range.upperBound, wantsResult: true, resumesTask: true) { applied in
                        c.resume(with: applied.map { (range, $0) }.mapError { $0 as Error })
                    }
                }
            })
        }
    }

    /// Blocking form of `propose(_:)` for synchronous callers (e.g. the C ABI). Throws the same.
    public func proposeSync(_ batch: EntryBatch) throws -> ClosedRange<UInt64> {
        let box = BlockingBox<Result<ClosedRange<UInt64>, EngineError>>()
        enqueue(WriteOp(at: nil, batch: batch) { box.put($0) })
        return try box.take().get()
    }

    /// Callback form of `propose(_:)`: `completion` runs on the writer thread once durable (keep it short).
    public func propose(_ batch: EntryBatch, completion: @escaping @Sendable (Result<ClosedRange<UInt64>, EngineError>) -> Void) {
        enqueue(WriteOp(at: nil, batch: batch, done: completion))
    }

    /// Appends `batch` with its first entry at `index` (what a follower received): entries already in the
    /// log with the same term are kept, the first entry whose term differs and everything after it are
    /// replaced, entries past the log's end are appended; durable before it returns (one fdatasync shared
    /// with concurrent appends; a conflict reaching into sealed segments costs their deletion's syncs). Entries below the
    /// log's first index are skipped (a snapshot covers them). Throws `.nonContiguous` when `index` is past
    /// `lastIndex + 1`, `.wouldTruncateCommitted` when a conflict lies at or below the commit index,
    /// `.closed`, `.failed`, `.log`.
    public func append(_ batch: EntryBatch, at index: UInt64) async throws -> ClosedRange<UInt64> {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<ClosedRange<UInt64>, Error>) in
            enqueue(WriteOp(at: index, batch: batch) { c.resume(with: $0.mapError { $0 as Error }) })
        }
    }

    /// Blocking form of `append(_:at:)`. Throws the same.
    public func appendSync(_ batch: EntryBatch, at index: UInt64) throws -> ClosedRange<UInt64> {
        let box = BlockingBox<Result<ClosedRange<UInt64>, EngineError>>()
        enqueue(WriteOp(at: index, batch: batch) { box.put($0) })
        return try box.take().get()
    }

    /// Callback form of `append(_:at:)`: `completion` runs on the writer thread once durable.
    public func append(_ batch: EntryBatch, at index: UInt64,
                       completion: @escaping @Sendable (Result<ClosedRange<UInt64>, EngineError>) -> Void) {
        enqueue(WriteOp(at: index, batch: batch, done: completion))
    }

    /// Drops every entry after `index` (hashicorp/raft's `DeleteRange` of a conflicting suffix), in order
    /// with queued appends; durable before it returns. `index >= lastIndex` does nothing. Throws
    /// `.wouldTruncateCommitted` when an entry at or below the commit index would go, `.compacted` when
    /// `index < firstIndex - 1`, `.closed`, `.failed`, `.log`. Cost: the log's truncation (a few syncs).
    public func truncateSync(after index: UInt64) throws {
        let box = BlockingBox<Result<ClosedRange<UInt64>, EngineError>>()
        enqueue(WriteOp(at: nil, batch: EntryBatch(), truncateAfter: index) { box.put($0) })
        _ = try box.take().get()
    }

    private func enqueue(_ op: WriteOp) {
        if op.batch.isEmpty && op.truncateAfter == nil {
            op.done(.failure(.invalidArgument("empty batch")))
            return
        }
        let refused: EngineError? = mu.withLock {
            if closing { return .closed }
            if let failure { return failure }
            pendingWrites.append(op)
            if pendingWrites.count >= writerWakeAt { writerWake.signal() }
            return nil
        }
        if let refused { op.done(.failure(refused)) }
    }

    // MARK: Writer thread

    func writerLoop() {
        var ops: [WriteOp] = []
        var run = EntryBatch(reservingBytes: 64 << 10)
        var outcomes: [Result<ClosedRange<UInt64>, EngineError>] = []
        var lastGroup = 0
        var lastSyncNanos: UInt64 = 0
        var inlineResults: [M.ApplyResult?] = []
        while true {
            let commit: UInt64? = mu.withLock {
                writerWakeAt = 1
                while pendingWrites.isEmpty && !closing { writerWake.wait(mu) }
                // Group forming: callers of the previous group come back one by one (each after its apply
                // result); wait a little (at most half the last fdatasync, at most 200 µs) until as many as
                // last time are queued, so one sync covers them instead of the first one alone.
                if pendingWrites.count < lastGroup && lastSyncNanos > 0 && !closing {
                    writerWakeAt = lastGroup
                    let deadline = realtimeNanos() + min(lastSyncNanos / 2, 200_000)
                    while pendingWrites.count < lastGroup && !closing {
                        if !writerWake.wait(mu, untilRealtimeNanos: deadline) { break }
                    }
                }
                writerWakeAt = Int.max
                if pendingWrites.isEmpty { return nil }
                swap(&ops, &pendingWrites)
                return curCommit
            }
            guard let commit else { return }
            outcomes.removeAll(keepingCapacity: true)
            var wrote = false
            var entries = 0
            var bytes = 0
            var k = 0
            while k < ops.count {
                // Proposals (at the log's next index) go to the log in runs, one append per run: a run of
                // several costs one copy of their frames and one write(2) instead of one per proposal.
                var end = k
                var runBytes = 0
                while end < ops.count && ops[end].at == nil && ops[end].truncateAfter == nil
                        && (end == k || runBytes + ops[end].batch.encodedBytes <= Self.runBytesLimit) {
                    runBytes += ops[end].batch.encodedBytes
                    end += 1
                }
                if end > k {
                    do {
                        if let f = mu.withLock({ failure }) { throw f }
                        var next: UInt64
                        if end - k == 1 {
                            next = try log.append(ops[k].batch).lowerBound
                        } else {
                            run.removeAll(keepingCapacity: true)
                            for j in k..<end { run.append(contentsOf: ops[j].batch) }
                            next = try log.append(run).lowerBound
                        }
                        for j in k..<end {
                            let count = UInt64(ops[j].batch.count)
                            outcomes.append(.success(next...(next + count - 1)))
                            next += count
                            entries += ops[j].batch.count
                            bytes += ops[j].batch.payloadBytes
                        }
                        wrote = true
                    } catch {
                        let e = recordWriteFailure(error)
                        for _ in k..<end { outcomes.append(.failure(e)) }
                    }
                    k = end
                    continue
                }
                let op = ops[k]
                k += 1
                do {
                    if let f = mu.withLock({ failure }) { throw f }
                    if let t = op.truncateAfter {
                        guard t >= commit else { throw EngineError.wouldTruncateCommitted(index: t + 1, commit: commit) }
                        try log.truncate(after: t)
                        outcomes.append(.success(t...t))
                        continue
                    }
                    let range = try write(op, commit: commit)
                    outcomes.append(.success(range))
                    wrote = true
                    entries += op.batch.count
                    bytes += op.batch.payloadBytes
                } catch {
                    outcomes.append(.failure(recordWriteFailure(error)))
                }
            }
            if wrote {
                let t0 = monotonicNanos()
                do {
                    // A commit index not yet saved rides in the same fdatasync as the entries (a hard-state
                    // record after them); otherwise a plain sync.
                    let target: UInt64 = mu.withLock {
                        options.commitOnDurable ? Swift.max(curCommit, log.lastIndex) : curCommit
                    }
                    if target > mu.withLock({ host.commit }) {
                        try saveHardState { $0.commit = Swift.max($0.commit, target) }
                    } else {
                        try log.sync()
                    }
                    lastSyncNanos = monotonicNanos() - t0
                    metrics.fsyncs.increment()
                    metrics.fsyncLatency.recordNanoseconds(Int64(lastSyncNanos))
                    metrics.appendedEntries.increment(by: entries)
                    metrics.appendedBytes.increment(by: bytes)
                } catch {
                    let e = EngineError.wrap(error)
                    fail(e)
                    for i in outcomes.indices where (try? outcomes[i].get()) != nil { outcomes[i] = .failure(e) }
                }
            }
            let applyHere: Bool = mu.withLock {
                curDurable = log.lastIndex
                if options.commitOnDurable && failure == nil && curDurable > curCommit {
                    curCommit = curDurable
                    metrics.commitIndex.record(Int64(curCommit))
                }
                // A small group with nothing queued behind it, while the apply thread sleeps: apply it
                // here instead of waking that thread (one thread hop less per group).
                let ready = unappliedLocked
                if options.commitOnDurable && applyThreadIdle && pendingWrites.isEmpty && failure == nil && !closing
                    && ready > 0 && ready <= UInt64(options.inlineApplyEntries) {
                    return true
                }
                applyWake.signal()
                return false
            }
            lastGroup = ops.count
            // Applied before the callbacks run: a proposeAndWait caller then finds its result at once and is
            // resumed from here, with no waiter to register and collect.
            if applyHere { applyInline(&inlineResults) }
            for (op, outcome) in zip(ops, outcomes) { op.done(outcome) }
            ops.removeAll(keepingCapacity: true)
        }
    }

    /// Applies what is committed on this (the writer) thread, unless the apply thread got there first:
    /// then it is busy and applies it in its next batch. Wakes the apply thread if anything is left
    /// (a snapshot due, or entries committed meanwhile).
    private func applyInline(_ results: inout [M.ApplyResult?]) {
        if applyGate.tryLock() {
            applyOnce(&results)
            applyGate.unlock()
        }
        mu.withLock {
            if applyWorkLocked { applyWake.signal() }
        }
    }

    /// Proposals copied into one append at most (a bigger one is written on its own, without a copy).
    static var runBytesLimit: Int { 1 << 20 }

    /// Wraps a failed write's error; a failed or I/O-broken log stops the engine.
    private func recordWriteFailure(_ error: Error) -> EngineError {
        let e = EngineError.wrap(error)
        if case .log(.failed) = e { fail(e) }
        if case .log(.io) = e { fail(e) }
        return e
    }

    /// Writes one queued append (no sync). Needs to run on the writer thread.
    private func write(_ op: WriteOp, commit: UInt64) throws -> ClosedRange<UInt64> {
        guard let index = op.at else { return try log.append(op.batch) }
        let first = log.firstIndex
        let last = log.lastIndex
        let count = UInt64(op.batch.count)
        guard index <= last + 1 else { throw EngineError.nonContiguous(expected: last + 1, found: index) }
        guard index > 0 else { throw EngineError.invalidArgument("index 0 is not a log index") }
        var skip: UInt64 = index < first ? min(count, first - index) : 0
        while skip < count && index + skip <= last {
            let at = index + skip
            if try log.term(at: at) != op.batch.header(at: Int(skip)).term {
                guard at > commit else { throw EngineError.wouldTruncateCommitted(index: at, commit: commit) }
                break  // the log's append replaces `at` and everything after it
            }
            skip += 1
        }
        if skip == count { return index...(index + count - 1) }
        if skip == 0 {
            _ = try log.append(op.batch, at: index, hardState: nil)
        } else {
            var rest = EntryBatch(reservingBytes: op.batch.encodedBytes)
            for k in Int(skip)..<op.batch.count {
                let h = op.batch.header(at: k)
                op.batch.withPayload(at: k) { rest.append(term: h.term, kind: h.kind, payload: $0) }
            }
            _ = try log.append(rest, at: index + skip, hardState: nil)
        }
        return index...(index + count - 1)
    }
}
