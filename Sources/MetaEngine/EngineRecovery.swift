// Opening an engine: newest valid snapshot (falling back past damaged ones), the log made to continue it
// (finishing an interrupted snapshot install), then replay of committed entries.

import Logging
import MetaFSM
import MetaLog
import MetaSnapshot

/// What opening an engine found and did.
public struct EngineRecoveryReport: Sendable, Equatable {
    /// The snapshot the state was restored from (nil: started from the empty state).
    public var snapshot: SnapshotID?
    /// Newer snapshots that could not be used, each with the reason (damaged files).
    public var skippedSnapshots: [SkippedSnapshot]
    /// Bytes of the snapshot file read.
    public var snapshotBytes: UInt64
    /// Nanoseconds spent restoring the snapshot.
    public var snapshotNanos: UInt64
    /// Entries replayed from the log (snapshot index + 1 through the durable commit index).
    public var entriesReplayed: UInt64
    /// Payload bytes of the replayed entries.
    public var replayedBytes: UInt64
    /// Nanoseconds spent reading and applying the replayed entries.
    public var replayNanos: UInt64
    /// The log's first and last index after opening.
    public var logFirstIndex: UInt64
    /// The log's last index after opening (entries after the commit index are kept, unapplied).
    public var logLastIndex: UInt64
    /// The durable commit index found (raised to the snapshot's index if lower).
    public var commitIndex: UInt64
    /// What the log's own recovery did (torn tail cut).
    public var log: RecoveryReport
    /// Whether the log had to be reset to continue the snapshot (an interrupted install was finished).
    public var logReset: Bool
    /// Total nanoseconds to open.
    public var totalNanos: UInt64
}

/// A snapshot opening skipped, and why.
public struct SkippedSnapshot: Sendable, Equatable {
    /// The snapshot.
    public var id: SnapshotID
    /// Why it was not used.
    public var reason: String
}

/// The result of recovery, handed to the engine's initializer.
struct Recovery<M: StateMachine> {
    var log: Log
    var store: SnapshotStore
    var machine: M
    var membership: [UInt8]
    var host: HostState
    var commit: UInt64
    var report: EngineRecoveryReport

    static func logDirectory(_ directory: String) -> String { directory + "/log" }
    static func snapshotDirectory(_ directory: String) -> String { directory + "/snapshots" }

    static func logOptions(_ options: EngineOptions) -> LogOptions {
        var o = LogOptions(segmentBytes: options.segmentBytes, durability: .manual, protectCommitted: true)
        o.fileSystem = options.fileSystem
        // The writer syncs after every group: keep the stretch ahead zeroed so those syncs flush data only.
        o.zeroFillAhead = true
        return o
    }

    static func run(directory: String, machine empty: M, options: EngineOptions) throws -> Recovery {
        let start = monotonicNanos()
        let logger = options.logger
        do {
            try makeDurableDirectory(directory, options.fileSystem)
            let store = try SnapshotStore(directory: snapshotDirectory(directory))
            var machine = empty
            var membership: [UInt8] = []
            var used: SnapshotID?
            var skipped: [SkippedSnapshot] = []
            var snapshotBytes: UInt64 = 0
            let snapStart = monotonicNanos()
            for id in try store.list() {
                do {
                    let reader = try store.open(id)
                    try checkKind(reader.meta, file: id.fileName, machine: M.self)
                    var fresh = empty
                    var source = reader
                    do {
                        try fresh.restoreSnapshot(from: &source)
                    } catch let e as SnapshotError {
                        throw e
                    } catch {
                        throw EngineError.restoreFailed(file: id.fileName, reason: "\(error)")
                    }
                    guard fresh.appliedIndex == id.index else {
                        throw EngineError.restoreFailed(
                            file: id.fileName,
                            reason: "state reports applied index \(fresh.appliedIndex), header says \(id.index)")
                    }
                    machine = fresh
                    membership = reader.meta.membership
                    snapshotBytes = reader.layout.fileSize
                    used = id
                    break
                } catch let e as EngineError {
                    if case .snapshotKindMismatch = e { throw e }
                    skipped.append(SkippedSnapshot(id: id, reason: "\(e)"))
                    logger.warning("skipping damaged snapshot", metadata: ["snapshot": "\(id.fileName)", "error": "\(e)"])
                } catch {
                    skipped.append(SkippedSnapshot(id: id, reason: "\(error)"))
                    logger.warning("skipping damaged snapshot", metadata: ["snapshot": "\(id.fileName)", "error": "\(error)"])
                }
            }
            let snapshotNanos = monotonicNanos() - snapStart

            let log = try Log(directory: logDirectory(directory), options: logOptions(options))
            var host: HostState
            do { host = try HostState(log.hardState) } catch {
                try? log.close()
                throw error
            }
            var reset = false
            let stateIndex = machine.appliedIndex
            do {
                if let used {
                    reset = try continueLog(log, after: used, host: &host)
                } else if log.firstIndex > 1 && log.firstIndex > stateIndex + 1 {
                    throw EngineError.logGap(stateIndex: stateIndex, logFirstIndex: log.firstIndex)
                }
            } catch {
                try? log.close()
                throw EngineError.wrap(error)
            }
            let commit = max(host.commit, stateIndex)
            host.commit = commit

            // Replay the committed entries the snapshot does not cover.
            let replayStart = monotonicNanos()
            var replayed: UInt64 = 0
            var replayedBytes: UInt64 = 0
            let target = min(commit, log.lastIndex)
            do {
                // Straight from the segment mappings (no copy): nothing else uses the log yet.
                let next = machine.appliedIndex + 1
                if next <= target {
                    let end = try log.forEachEntry(from: next, through: target) { header, payload in
                        _ = applyEntry(header, payload, to: &machine, membership: &membership)
                        replayed += 1
                        replayedBytes += UInt64(payload.count)
                        return true
                    }
                    if end != target + 1 { throw LogError.unavailable(index: end, lastIndex: log.lastIndex) }
                }
            } catch {
                try? log.close()
                throw EngineError.wrap(error)
            }
            let report = EngineRecoveryReport(
                snapshot: used, skippedSnapshots: skipped, snapshotBytes: snapshotBytes, snapshotNanos: snapshotNanos,
                entriesReplayed: replayed, replayedBytes: replayedBytes, replayNanos: monotonicNanos() - replayStart,
                logFirstIndex: log.firstIndex, logLastIndex: log.lastIndex, commitIndex: commit, log: log.recovery,
                logReset: reset, totalNanos: monotonicNanos() - start)
            logger.info("engine opened", metadata: [
                "snapshot": "\(used.map { "\($0)" } ?? "none")", "replayed": "\(replayed)",
                "log": "\(log.firstIndex)...\(log.lastIndex)", "commit": "\(commit)",
            ])
            return Recovery(log: log, store: store, machine: machine, membership: membership, host: host,
                            commit: commit, report: report)
        } catch {
            throw EngineError.wrap(error)
        }
    }

    /// Throws `.snapshotKindMismatch` unless `meta` was written by this kind and version of machine.
    static func checkKind(_ meta: SnapshotMeta, file: String, machine: M.Type) throws {
        guard meta.stateMachineKind == M.kind, meta.stateMachineVersion == M.snapshotVersion else {
            throw EngineError.snapshotKindMismatch(
                file: file, expectedKind: M.kind, expectedVersion: M.snapshotVersion,
                foundKind: meta.stateMachineKind, foundVersion: meta.stateMachineVersion)
        }
    }

    /// Makes the log continue the state of snapshot `id`: kept as is when it holds entry `id.index` with
    /// `id.term` (or starts right after it); otherwise (a snapshot install that crashed before its log reset,
    /// or a log behind the snapshot) emptied to continue at `id.index + 1`. Returns whether it was reset.
    /// Throws `.logGap` when the log starts past `id.index + 1`.
    static func continueLog(_ log: Log, after id: SnapshotID, host: inout HostState) throws -> Bool {
        let first = log.firstIndex
        let last = log.lastIndex
        if first > id.index + 1 {
            throw EngineError.logGap(stateIndex: id.index, logFirstIndex: first)
        }
        if id.index >= first && id.index <= last {
            if try log.term(at: id.index) == id.term { return false }
        } else if id.index == first - 1 {
            return false
        }
        try resetLog(log, to: id, host: &host)
        return true
    }

    /// Empties the log so it continues at `id.index + 1` with `id.term` as the boundary term, then saves the
    /// commit index raised to `id.index` (both durable; a crash between them is finished by the next open).
    static func resetLog(_ log: Log, to id: SnapshotID, host: inout HostState) throws {
        try log.reset(after: id.index, term: id.term)
        host.commit = max(host.commit, id.index)
        try log.saveHardState(host.hardState)
    }
}

/// Applies one entry by its kind: a command goes to the machine (its result is returned), a membership
/// entry replaces `membership`, no-op and host entries only advance the machine's applied index.
@inline(__always)
func applyEntry<M: StateMachine>(
    _ h: EntryHeader, _ p: UnsafeRawBufferPointer, to machine: inout M, membership: inout [UInt8]
) -> M.ApplyResult? {
    switch EntryKind(rawValue: h.kind) {
    case .command:
        return machine.apply(index: h.index, term: h.term, payload: p)
    case .membership:
        membership = Array(p)
        machine.skip(index: h.index, term: h.term)
        return nil
    case .noop, .host:
        machine.skip(index: h.index, term: h.term)
        return nil
    }
}

/// Applies every entry of `batch` to `machine` (commands) or skips it (other kinds; membership bytes are
/// kept). `results` is cleared and gets one result per entry. Returns the last term and payload bytes.
func applyEntries<M: StateMachine>(
    _ batch: EntryBatch, to machine: inout M, membership: inout [UInt8], results: inout [M.ApplyResult?]
) -> (term: UInt64, bytes: UInt64) {
    results.removeAll(keepingCapacity: true)
    var bytes: UInt64 = 0
    var term: UInt64 = 0
    for k in 0..<batch.count {
        let h = batch.header(at: k)
        term = h.term
        let r = batch.withPayload(at: k) { p in
            bytes += UInt64(p.count)
            return applyEntry(h, p, to: &machine, membership: &membership)
        }
        results.append(r)
    }
    return (term, bytes)
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Creates `path` (one level) if missing and makes its entry durable in its parent (fsync of the parent),
/// so that an engine directory created just before a power cut does not vanish with the acknowledged
/// entries in it. Throws `.log(.io)` naming the call and path. Cost: one directory fsync.
func makeDurableDirectory(_ path: String, _ fs: any FileSystem) throws {
    do {
        try fs.makeDirectory(path)
        try fs.syncDirectory(Log.parent(of: path))
    } catch {
        throw EngineError.log(.io(operation: error.operation, file: error.path, errno: error.errno))
    }
}
