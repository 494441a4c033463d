// Every error the engine throws. Log and snapshot failures keep their own typed errors inside.

import MetaLog
import MetaSnapshot
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every error `MetaEngine` throws; cases carry the facts (index, file, expected/found) needed to act.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The log failed (its error names the file, offset and index).
    case log(LogError)
    /// A snapshot file or store operation failed (its error names the file and offset).
    case snapshot(SnapshotError)
    /// The state machine refused a snapshot's body (`file` is the snapshot file name).
    case restoreFailed(file: String, reason: String)
    /// A snapshot was written by another kind or version of state machine.
    case snapshotKindMismatch(file: String, expectedKind: String, expectedVersion: UInt32, foundKind: String, foundVersion: UInt32)
    /// The entry at `index` is no longer in the log: a snapshot covers it (Raft's ErrCompacted).
    case compacted(index: UInt64, firstIndex: UInt64)
    /// The entry at `index` is not in the log yet (Raft's ErrUnavailable).
    case unavailable(index: UInt64, lastIndex: UInt64)
    /// An append would overwrite entry `index`, which is committed (`commit` is the commit index).
    case wouldTruncateCommitted(index: UInt64, commit: UInt64)
    /// An append at `found` would leave a gap: the log's next index is `expected`.
    case nonContiguous(expected: UInt64, found: UInt64)
    /// Recovery found the log starting at `logFirstIndex` but the state (snapshot) ends at `stateIndex`:
    /// entries in between are missing (for example the newest snapshot was damaged and the log was already
    /// compacted past the previous one).
    case logGap(stateIndex: UInt64, logFirstIndex: UInt64)
    /// The result of entry `index` is no longer held (older than the result window, or the state came from
    /// a snapshot that covers it).
    case resultUnavailable(index: UInt64)
    /// The hard-state record's host values are damaged at byte `offset` of the context.
    case badHostState(offset: Int, reason: String)
    /// An argument is outside what the call accepts.
    case invalidArgument(String)
    /// A wait for entry `index` ended before it was applied (blocking and callback forms; the async
    /// `waitForApplied` returns false instead).
    case timedOut(index: UInt64)
    /// A wait was cancelled (the async forms throw `CancellationError` instead).
    case cancelled
    /// The system would not start the engine thread playing `role` ("writer", "apply" or "snapshot"):
    /// pthread_create returned `errno` (EAGAIN: a thread or memory limit). Opening fails cleanly (the log
    /// is closed again); a snapshot fails and the engine goes on.
    case threadUnavailable(role: String, errno: Int32)
    /// The engine was closed.
    case closed
    /// The engine stopped after an earlier failure (the log is fail-stopped); close and reopen it.
    case failed(String)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case let .log(e): return "log: \(e)"
        case let .snapshot(e): return "snapshot: \(e)"
        case let .restoreFailed(file, reason): return "snapshot \(file) could not be restored: \(reason)"
        case let .snapshotKindMismatch(file, ek, ev, fk, fv):
            return "snapshot \(file) holds state machine \(fk) version \(fv), but this engine runs \(ek) version \(ev)"
        case let .compacted(index, first):
            return "entry \(index) was compacted into a snapshot; the first index in the log is \(first)"
        case let .unavailable(index, last):
            return "entry \(index) is not in the log yet; the last index is \(last)"
        case let .wouldTruncateCommitted(index, commit):
            return "an append conflicts at entry \(index), which is committed (commit index \(commit)); refusing to overwrite it"
        case let .nonContiguous(expected, found):
            return "append at index \(found) would leave a gap: the next index is \(expected)"
        case let .logGap(stateIndex, first):
            return "the state ends at entry \(stateIndex) but the log starts at \(first): entries in between are missing"
        case let .resultUnavailable(index):
            return "the result of entry \(index) is no longer held (older than the result window, or covered by a snapshot)"
        case let .badHostState(offset, reason):
            return "hard state host values damaged at byte \(offset): \(reason)"
        case let .invalidArgument(text): return "invalid argument: \(text)"
        case let .timedOut(index): return "timed out waiting for entry \(index) to be applied"
        case .cancelled: return "the wait was cancelled"
        case let .threadUnavailable(role, code):
            return "could not start the engine's \(role) thread: pthread_create failed with errno \(code) (\(String(cString: strerror(code))))"
        case .closed: return "the engine is closed"
        case let .failed(text): return "the engine stopped after an earlier failure (\(text)); close and reopen it"
        }
    }

    /// Wraps any error from the layers below.
    static func wrap(_ error: Error) -> EngineError {
        switch error {
        case let e as EngineError: return e
        case let e as LogError:
            switch e {
            case let .compacted(index, first): return .compacted(index: index, firstIndex: first)
            case let .unavailable(index, last): return .unavailable(index: index, lastIndex: last)
            case let .nonContiguous(expected, found): return .nonContiguous(expected: expected, found: found)
            default: return .log(e)
            }
        case let e as SnapshotError: return .snapshot(e)
        default: return .failed("\(error)")
        }
    }
}
