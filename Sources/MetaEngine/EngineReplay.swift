// Read-only reconstruction of the state an engine directory holds, for offline tools (metactl kv get|range).

import MetaFSM
import MetaLog
import MetaSnapshot

/// The state an engine directory would open with, rebuilt without opening the engine.
public struct EngineReplayed<M: StateMachine> {
    /// The state: the newest usable snapshot plus the committed log entries after it.
    public var machine: M
    /// The snapshot it started from (nil: none, the state started empty).
    public var snapshot: SnapshotID?
    /// Snapshots skipped because they could not be read (file name and reason), newest first.
    public var skippedSnapshots: [(file: String, reason: String)]
    /// Log entries applied or skipped after the snapshot.
    public var entriesReplayed: UInt64
}

extension EngineInspector {
    /// Rebuilds the state `MetaEngine(directory:stateMachine:options:)` would recover, read-only: no
    /// directory lock is taken and nothing is cut, cleaned or repaired (so it may run beside a live engine;
    /// it then sees the entries committed and synced when it reads). The newest snapshot that restores is
    /// used (a damaged one is skipped and listed, as opening does); then every entry after it up to the
    /// saved commit index (and no further than the log's last complete entry) is applied (commands) or
    /// skipped (other kinds). A torn tail is not read.
    ///
    /// Throws `.invalidArgument` when `directory` holds no `log/`, `.snapshotKindMismatch` when a snapshot
    /// was written by another machine, `.logGap` when the log starts after the snapshot's index + 1, and
    /// the log's `.corruption` (file, offset, index) for damage in the entries it has to read.
    /// Cost: restores one snapshot and reads and applies every committed entry after it.
    public static func replay<M: StateMachine>(directory: String, stateMachine empty: M) throws -> EngineReplayed<M> {
        let logDir = directory + "/log"
        let snapDir = directory + "/snapshots"
        guard isDirectoryPath(logDir) else {
            throw EngineError.invalidArgument("\(directory) is not an engine directory (no log/ inside)")
        }
        var machine = empty
        var used: SnapshotID?
        var skipped: [(file: String, reason: String)] = []
        if isDirectoryPath(snapDir) {
            let listed: [SnapshotListingEntry]
            do { listed = try SnapshotListingEntry.list(directory: snapDir) } catch { throw EngineError.wrap(error) }
            let ids = listed.filter { $0.kind == .published }.compactMap(\.id).sorted(by: >)
            for id in ids {
                do {
                    let reader = try SnapshotReader(path: snapDir + "/" + id.fileName)
                    try Recovery<M>.checkKind(reader.meta, file: id.fileName, machine: M.self)
                    var fresh = empty
                    var source = reader
                    try fresh.restoreSnapshot(from: &source)
                    guard fresh.appliedIndex == id.index else {
                        throw EngineError.restoreFailed(
                            file: id.fileName, reason: "state reports applied index \(fresh.appliedIndex), header says \(id.index)")
                    }
                    machine = fresh
                    used = id
                    break
                } catch let e as EngineError {
                    if case .snapshotKindMismatch = e { throw e }
                    skipped.append((id.fileName, "\(e)"))
                } catch {
                    skipped.append((id.fileName, "\(error)"))
                }
            }
        }
        let hard: HardState
        do { hard = try LogInspector.hardState(directory: logDir) } catch { throw EngineError.wrap(error) }
        let start = machine.appliedIndex + 1
        var replayed: UInt64 = 0
        var first: UInt64?
        do {
            try LogInspector.forEachEntry(directory: logDir, from: start) { header, payload in
                if first == nil {
                    first = header.index
                    if header.index > start { throw EngineError.logGap(stateIndex: start - 1, logFirstIndex: header.index) }
                }
                guard header.index <= hard.commit else { return false }
                switch EntryKind(rawValue: header.kind) {
                case .command: _ = machine.apply(index: header.index, term: header.term, payload: payload)
                case .noop, .membership, .host: machine.skip(index: header.index, term: header.term)
                }
                replayed += 1
                return true
            }
        } catch let e as EngineError {
            throw e
        } catch {
            throw EngineError.wrap(error)
        }
        return EngineReplayed(machine: machine, snapshot: used, skippedSnapshots: skipped, entriesReplayed: replayed)
    }
}
