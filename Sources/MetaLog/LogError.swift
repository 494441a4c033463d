/// Every error MetaLog throws. Cases carry the facts (file, offset, index, errno) needed to act on them.
public enum LogError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The index is below the first readable index (it was removed by `removePrefix`). Raft's ErrCompacted.
    case compacted(index: UInt64, firstIndex: UInt64)
    /// The index is past the last index. Raft's ErrUnavailable.
    case unavailable(index: UInt64, lastIndex: UInt64)
    /// `append(_:at:)` was asked to append at `found` but the next index is `expected`.
    case nonContiguous(expected: UInt64, found: UInt64)
    /// Bytes on disk are damaged: `file` (a name inside the log directory), byte `offset` in it, the entry
    /// index concerned when known, and what was wrong.
    case corruption(file: String, offset: Int64, index: UInt64?, reason: String)
    /// Another process (or another `Log` in this process) holds the directory lock.
    case locked(directory: String)
    /// The log is fail-stopped: an earlier fsync (or write) failed and nothing can be trusted any more.
    /// Close it and open it again to recover from what is on disk.
    case failed(underlying: String)
    /// The file system is full (ENOSPC) while writing `file`. Nothing was acknowledged; the log stays
    /// consistent and usable once space is freed.
    case noSpace(file: String)
    /// A system call failed.
    case io(operation: String, file: String, errno: Int32)
    /// The log was closed.
    case closed
    /// An argument was out of the accepted range (for example an entry larger than 4 GiB).
    case invalidArgument(String)
    /// With `LogOptions.protectCommitted`: the call would drop entry `index` (the first it would drop),
    /// at or below the hard state's commit index `commit`. Nothing was changed.
    case wouldTruncateCommitted(index: UInt64, commit: UInt64)

    /// A sentence a person can act on.
    public var description: String {
        switch self {
        case let .compacted(index, firstIndex):
            return "entry \(index) was compacted away; the first readable index is \(firstIndex)"
        case let .unavailable(index, lastIndex):
            return "entry \(index) is not in the log yet; the last index is \(lastIndex)"
        case let .nonContiguous(expected, found):
            return "append at index \(found) would leave a gap or overlap: the next index is \(expected)"
        case let .corruption(file, offset, index, reason):
            let at = index.map { ", entry \($0)" } ?? ""
            return "corrupt log data in \(file) at byte \(offset)\(at): \(reason). "
                + "Run `metactl log verify` to see the extent and `metactl log repair` to cut the log there"
        case let .locked(directory):
            return "the log directory \(directory) is locked by another process or another open Log"
        case let .failed(underlying):
            return "the log is fail-stopped after an earlier failure (\(underlying)); close and reopen it"
        case let .noSpace(file):
            return "no space left on device while writing \(file); free space and retry (nothing was lost)"
        case let .io(operation, file, errno):
            return "\(operation) failed on \(file): \(LogError.errnoName(errno))"
        case .closed:
            return "the log is closed"
        case let .invalidArgument(text):
            return "invalid argument: \(text)"
        case let .wouldTruncateCommitted(index, commit):
            return "refusing to drop entry \(index): entries up to the commit index \(commit) are committed"
        }
    }

    static func errnoName(_ code: Int32) -> String {
        guard let text = strerrorText(code) else { return "errno \(code)" }
        return "\(text) (errno \(code))"
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

private func strerrorText(_ code: Int32) -> String? {
    guard let text = strerror(code) else { return nil }
    return String(cString: text)
}
