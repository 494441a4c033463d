// MetaEngine: the object a host embeds under its consensus. The host appends entries and advances the
// commit index; the engine recovers, applies committed entries on its own thread, snapshots in the
// background, compacts the log, installs a leader's snapshot and lets callers wait for indexes.
//
// Directory layout: `log/` (MetaLog segments and the hard-state record) and `snapshots/` (MetaSnapshot
// store). Threads: one writer (appends, one fdatasync per group of queued appends), one apply loop, and
// one short-lived thread per snapshot being written.

import Logging
// The engine's API speaks in these modules' types (EntryBatch, SnapshotID, StateMachine): a host that
// imports MetaEngine gets them too.
@_exported import MetaFSM
@_exported import MetaLog
@_exported import MetaSnapshot

/// A replicated state machine's storage: log, snapshots and state machine `M` tied together.
///
/// Thread-safe: every method may be called from any thread or task. `M` must have value semantics
/// (a struct whose storage is copy-on-write): the engine snapshots a frozen copy of the value while the
/// apply loop keeps mutating its own (see README, "Snapshot consistency").
public final class MetaEngine<M: StateMachine & Sendable>: @unchecked Sendable where M.ApplyResult: Sendable {
    /// The engine's directory.
    public let directory: String
    /// The options it was opened with.
    public let options: EngineOptions
    /// What opening found and did.
    public let recovery: EngineRecoveryReport

    /// One caller waiting for an index to be applied.
    struct Waiter {
        var id: UInt64
        var index: UInt64
        var wantsResult: Bool
        /// The resume continues a suspended task (an async caller) rather than running a callback: such
        /// resumes may be handed to Swift's executor together (see `ApplyLoop.resume(_:)`).
        var resumesTask: Bool = false
        var resume: (Result<M.ApplyResult?, EngineError>) -> Void
    }

    let log: Log
    let store: SnapshotStore
    /// Serializes snapshot store operations (the store is single-threaded).
    let storeLock = EngineMutex()
    let metrics: EngineMetrics
    var logger: Logger { options.logger }

    // The state machine and membership bytes: written by the apply loop (and install), read by `read`.
    var machine: M
    var membership: [UInt8]
    let stateLock = ReadWriteLock()  // MetaLog's (package access)

    /// Held by the apply loop for a whole batch and by install, so they never interleave.
    let applyGate = EngineMutex()
    /// Orders hard-state saves (each is built and written under it).
    let hardStateLock = EngineMutex()

    // Everything below is guarded by `mu`.
    let mu = EngineMutex()
    let writerWake = EngineCondition()
    let applyWake = EngineCondition()
    var curCommit: UInt64
    var curDurable: UInt64
    var curApplied: UInt64
    var curAppliedTerm: UInt64
    var host: HostState
    var pendingWrites: [WriteOp] = []
    /// How many queued writes wake the writer (1 while idle, the group it is forming while it forms one,
    /// Int.max while it writes): appenders signal only then, so a forming group costs one wake-up, not one
    /// per arriving proposal.
    var writerWakeAt = 1
    /// Whether the apply thread is waiting for work (the writer may then apply a small group itself).
    var applyThreadIdle = false
    var waiters: [Waiter] = []
    var nextWaiterID: UInt64 = 0
    var ring: [M.ApplyResult?]
    var ringLow: UInt64
    var closing = false
    var closed = false
    var failure: EngineError?
    var latestSnapshot: SnapshotID?
    var snapshotInProgress = false
    var snapshotRequested = false
    var snapshotCallbacks: [SnapshotCallback] = []
    var entriesSinceSnapshot: UInt64 = 0
    var bytesSinceSnapshot: UInt64 = 0
    var lastSnapshotPauseNanos: UInt64 = 0
    var lastSnapshotNanos: UInt64 = 0
    var snapshotThreads: [EngineThread] = []
    var writerThread: EngineThread?
    var applyThread: EngineThread?

    /// Opens (creating if needed) the engine in `directory` around `stateMachine` (the empty state of the
    /// machine; it is replaced by the newest valid snapshot if there is one). Loads the snapshot (a damaged
    /// newest one falls back to the previous, with a warning), replays the log through the durable commit
    /// index, then starts the writer and apply threads. Entries past the commit index stay in the log
    /// unapplied until the host commits them.
    ///
    /// Throws `.snapshotKindMismatch` for another machine's snapshot, `.logGap` when the log does not
    /// continue the state, `.log` (e.g. `.locked`, `.corruption`), `.snapshot`, `.badHostState`.
    /// Cost: reading the snapshot once plus reading and applying the replayed entries.
    public init(directory: String, stateMachine: M, options: EngineOptions = EngineOptions()) throws {
        self.directory = directory
        self.options = options
        metrics = EngineMetrics(prefix: options.metricsPrefix, factory: options.metricsFactory)
        guard options.retainSnapshots >= 1, options.resultWindow >= 1, options.applyBatchEntries >= 1 else {
            throw EngineError.invalidArgument("retainSnapshots, resultWindow and applyBatchEntries must be at least 1")
        }
        guard options.inlineApplyEntries >= 0 else {
            throw EngineError.invalidArgument("inlineApplyEntries must not be negative (0 turns inline apply off)")
        }
        let r = try Recovery<M>.run(directory: directory, machine: stateMachine, options: options)
        log = r.log
        store = r.store
        machine = r.machine
        membership = r.membership
        host = r.host
        curCommit = r.commit
        curDurable = r.log.lastIndex
        curApplied = r.machine.appliedIndex
        curAppliedTerm = r.machine.appliedTerm
        latestSnapshot = r.report.snapshot
        ring = Array(repeating: nil, count: options.resultWindow)
        ringLow = curApplied + 1
        recovery = r.report
        entriesSinceSnapshot = r.report.entriesReplayed
        metrics.commitIndex.record(Int64(curCommit))
        metrics.appliedIndex.record(Int64(curApplied))
        do {
            writerThread = try EngineThread(role: "writer", refuse: options.refuseThread) { [unowned self] in self.writerLoop() }
            applyThread = try EngineThread(role: "apply", refuse: options.refuseThread) { [unowned self] in self.applyLoop() }
        } catch {
            // Without both threads the engine cannot work: stop the one that started, release the log
            // (its directory lock too, so the host can retry) and report why.
            _ = stop()
            try? log.close()
            throw error
        }
    }

    /// An engine dropped without `close()` stops its threads and releases the log like `simulateCrash()`
    /// (nothing more is saved; the next open replays through the last saved commit index).
    deinit {
        if stop() { try? log.close() }
    }

    /// Same as `init(directory:stateMachine:options:)`.
    public static func open(directory: String, stateMachine: M, options: EngineOptions = EngineOptions()) throws -> MetaEngine {
        try MetaEngine(directory: directory, stateMachine: stateMachine, options: options)
    }

    /// Stops the threads (queued appends fail with `.closed`, waiters too), waits for a snapshot being
    /// written, saves the hard state with the current commit index and closes the log. Closing twice does
    /// nothing. Throws if the final hard-state save or log close fails.
    public func close() throws {
        guard stop() else { return }
        var firstError: Error?
        if failure == nil {
            do { try saveHardState { _ in } } catch { firstError = error }
        }
        do { try log.close() } catch { firstError = firstError ?? error }
        if let firstError { throw EngineError.wrap(firstError) }
    }

    /// Stops like a killed process: threads end, nothing more is applied, saved or synced; the log's files
    /// are released as they are (written but unsynced data stays in the page cache, as after a process
    /// kill). For crash tests in one process; the engine is unusable afterwards.
    public func simulateCrash() {
        guard stop() else { return }
        // Written data is in the page cache as after a process kill; close only releases the files and
        // the directory lock (its final sync changes nothing a killed process would not also keep).
        try? log.close()
    }

    /// Ends the threads; returns false when already stopped.
    private func stop() -> Bool {
        let (first, threads): (Bool, [EngineThread]) = mu.withLock {
            if closing { return (false, []) }
            closing = true
            writerWake.broadcast()
            applyWake.broadcast()
            return (true, [writerThread, applyThread].compactMap { $0 })
        }
        if !first { return false }
        for t in threads { t.join() }
        let snapshotWriters: [EngineThread] = mu.withLock { snapshotThreads }
        for t in snapshotWriters { t.join() }
        let (ops, ws, snaps) = mu.withLock { () -> ([WriteOp], [Waiter], [SnapshotCallback]) in
            closed = true
            defer {
                pendingWrites = []
                waiters = []
                snapshotCallbacks = []
            }
            return (pendingWrites, waiters, snapshotCallbacks)
        }
        for op in ops { op.done(.failure(.closed)) }
        for w in ws { w.resume(.failure(.closed)) }
        for s in snaps { s(.failure(.closed)) }
        return true
    }

    /// Throws `.closed` or the failure that stopped the engine. Needs `mu`.
    func checkUsable() throws {
        if closing { throw EngineError.closed }
        if let failure { throw failure }
    }

    /// Records a fatal failure (a log write or fsync failed): later calls throw it.
    func fail(_ error: EngineError) {
        mu.withLock {
            if failure == nil {
                failure = .failed("\(error)")
                metrics.failures.increment()
            }
            applyWake.broadcast()
        }
        logger.error("engine failed", metadata: ["error": "\(error)"])
    }

}

extension MetaEngine {
    /// Progress counters at one instant.
    public var progress: EngineProgress {
        mu.withLock {
            EngineProgress(
                firstIndex: log.firstIndex, lastIndex: log.lastIndex, durableIndex: curDurable,
                commitIndex: curCommit, appliedIndex: curApplied, appliedTerm: curAppliedTerm,
                latestSnapshot: latestSnapshot, snapshotInProgress: snapshotInProgress,
                lastSnapshotPauseNanos: lastSnapshotPauseNanos, lastSnapshotNanos: lastSnapshotNanos)
        }
    }
}

/// Where an engine stands (see `MetaEngine.progress`).
public struct EngineProgress: Sendable, Equatable {
    /// First index in the log.
    public var firstIndex: UInt64
    /// Last index in the log (written; maybe not yet durable).
    public var lastIndex: UInt64
    /// Last index known on disk.
    public var durableIndex: UInt64
    /// Highest index known committed.
    public var commitIndex: UInt64
    /// Last applied index.
    public var appliedIndex: UInt64
    /// Term of the last applied entry.
    public var appliedTerm: UInt64
    /// Newest published snapshot.
    public var latestSnapshot: SnapshotID?
    /// Whether a snapshot is being written.
    public var snapshotInProgress: Bool
    /// How long the apply loop stopped to freeze the state for the last snapshot (nanoseconds).
    public var lastSnapshotPauseNanos: UInt64
    /// How long the last snapshot took from freeze to publication (nanoseconds).
    public var lastSnapshotNanos: UInt64
}
