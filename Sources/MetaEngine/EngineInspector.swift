// Offline view of an engine directory for operators (`metactl engine stat|verify`): the log, the hard state,
// every snapshot, and what opening would do. Never modifies anything and needs no state machine.

import MetaLog
import MetaSnapshot

/// One snapshot file of an engine directory.
public struct EngineSnapshotInfo: Sendable, Equatable {
    /// The file name inside `snapshots/`.
    public var file: String
    /// Its id (last included index and term).
    public var id: SnapshotID
    /// File size in bytes.
    public var bytes: UInt64
    /// State-machine kind and version from the header (nil when the header cannot be read).
    public var kind: String?
    /// The state machine's snapshot version.
    public var version: UInt32?
    /// Raw (uncompressed) body bytes.
    public var rawBytes: UInt64?
    /// Membership bytes in the header.
    public var membershipBytes: Int?
    /// nil when readable (and, after `verify`, when every chunk and the digest check); else what is wrong.
    public var problem: String?
}

/// What an engine directory holds (see `EngineInspector.stat`).
public struct EngineStat: Sendable, Equatable {
    /// First index in the log.
    public var firstIndex: UInt64
    /// Last index in the log.
    public var lastIndex: UInt64
    /// Segment files.
    public var segments: Int
    /// Bytes of the segment files.
    public var logBytes: Int64
    /// A torn tail that opening would cut (file and offset), if any.
    public var tornTail: String?
    /// The hard state: term, vote, commit, and the host values' names with their sizes.
    public var term: UInt64
    /// The vote in `term`.
    public var vote: UInt64
    /// The durable commit index.
    public var commit: UInt64
    /// Host value names and their byte sizes, sorted by name.
    public var hostValues: [(name: String, bytes: Int)]
    /// Published snapshots, newest first.
    public var snapshots: [EngineSnapshotInfo]
    /// Partial transfers (snapshot files being received).
    public var partialTransfers: [String]
    /// The applied index opening would reach: newest readable snapshot's index, then replay through
    /// `min(commit, lastIndex)`.
    public var appliedOnOpen: UInt64
    /// Problems found (corruption in the log or snapshots, a gap between snapshot and log).
    public var problems: [String]

    /// Equality of every field.
    public static func == (a: EngineStat, b: EngineStat) -> Bool {
        a.firstIndex == b.firstIndex && a.lastIndex == b.lastIndex && a.segments == b.segments && a.logBytes == b.logBytes
            && a.tornTail == b.tornTail && a.term == b.term && a.vote == b.vote && a.commit == b.commit
            && a.hostValues.map(\.name) == b.hostValues.map(\.name) && a.hostValues.map(\.bytes) == b.hostValues.map(\.bytes)
            && a.snapshots == b.snapshots && a.partialTransfers == b.partialTransfers && a.appliedOnOpen == b.appliedOnOpen
            && a.problems == b.problems
    }
}

/// Reads an engine directory without opening the engine.
public enum EngineInspector {
    /// The log (every frame's checksum is checked, as `metactl log verify` does), the hard state and each
    /// snapshot's header; with `verifySnapshots`, every snapshot's chunks and digest too. Throws
    /// `.invalidArgument` when `directory` holds no `log/` directory; other problems are listed in
    /// `problems`. Cost: reads the whole log, and with `verifySnapshots` every snapshot file.
    public static func stat(directory: String, verifySnapshots: Bool = false) throws -> EngineStat {
        let logDir = directory + "/log"
        let snapDir = directory + "/snapshots"
        guard isDirectory(logDir) else {
            throw EngineError.invalidArgument("\(directory) is not an engine directory (no log/ inside)")
        }
        var problems: [String] = []
        let report: VerifyReport
        do { report = try LogInspector.verify(directory: logDir) } catch { throw EngineError.wrap(error) }
        problems += report.problems.map { "log: \($0)" }
        var hard = HardState()
        var values: [(String, Int)] = []
        do {
            hard = try LogInspector.hardState(directory: logDir)
            let decoded = try HostState(hard)
            values = decoded.values.keys.sorted().map { ($0, decoded.values[$0]?.count ?? 0) }
        } catch {
            problems.append("hard state: \(error)")
        }
        var snapshots: [EngineSnapshotInfo] = []
        var partial: [String] = []
        if isDirectory(snapDir) {
            for entry in (try? SnapshotListingEntry.list(directory: snapDir)) ?? [] {
                switch entry.kind {
                case .published:
                    guard let id = entry.id else { continue }
                    var info = EngineSnapshotInfo(file: entry.name, id: id, bytes: entry.bytes)
                    do {
                        let reader = try SnapshotReader(path: snapDir + "/" + entry.name)
                        info.kind = reader.meta.stateMachineKind
                        info.version = reader.meta.stateMachineVersion
                        info.rawBytes = reader.layout.rawLength
                        info.membershipBytes = reader.meta.membership.count
                        if verifySnapshots { try reader.verify() }
                    } catch {
                        info.problem = "\(error)"
                        problems.append("snapshot \(entry.name): \(error)")
                    }
                    snapshots.append(info)
                case .partial: partial.append(entry.name)
                case .temporary: break
                }
            }
        }
        snapshots.sort { $0.id > $1.id }
        let base = snapshots.first { $0.problem == nil }?.id.index ?? 0
        if report.firstIndex > base + 1 {
            problems.append("gap: the newest usable snapshot ends at \(base) but the log starts at \(report.firstIndex)")
        }
        let applied = max(base, min(hard.commit, report.lastIndex))
        let torn = report.tornTailOffset.map { "\(report.tornTailFile ?? "?") offset \($0)" }
        return EngineStat(
            firstIndex: report.firstIndex, lastIndex: report.lastIndex, segments: report.segments.count,
            logBytes: report.segments.reduce(0) { $0 + $1.bytes }, tornTail: torn, term: hard.term, vote: hard.vote,
            commit: hard.commit, hostValues: values, snapshots: snapshots, partialTransfers: partial,
            appliedOnOpen: applied, problems: problems)
    }

    /// `stat` with every snapshot's chunks and digest checked.
    public static func verify(directory: String) throws -> EngineStat {
        try stat(directory: directory, verifySnapshots: true)
    }

    private static func isDirectory(_ path: String) -> Bool { isDirectoryPath(path) }
}

/// Whether `path` is a directory (not following a final symlink).
func isDirectoryPath(_ path: String) -> Bool {
    var st = stat()
    return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == S_IFDIR
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
