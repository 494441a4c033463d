// Reads: the applied state (never blocked by appends, waits at most one apply batch), a read-index helper,
// and the log reads a consensus library asks of its storage (term at any index including the compaction
// boundary, entries in a range with a size cap).

import MetaFSM
import MetaLog
import MetaSnapshot

extension MetaEngine {
    /// Runs `body` on the applied state (shared with other readers; the apply loop waits while it runs, so
    /// keep it short). Rethrows what `body` throws. Cost: a read lock.
    public func read<R>(_ body: (M) throws -> R) rethrows -> R {
        try stateLock.withReadLock { try body(machine) }
    }

    /// Linearizable read for hosts that implement read-index: waits until `index` (the commit index the
    /// leader confirmed) is applied, then runs `body` on the state. Throws `.closed`, `.failed`,
    /// `CancellationError`, or what `body` throws.
    public func read<R>(atLeast index: UInt64, _ body: (M) throws -> R) async throws -> R {
        try await waitApplied(index)
        return try read(body)
    }

    /// The membership bytes of the newest applied membership entry (or of the snapshot it came from).
    public var membershipBytes: [UInt8] { stateLock.withReadLock { membership } }

    /// The first index in the log (etcd's FirstIndex; `lastIndex + 1` when the log is empty).
    public var firstIndex: UInt64 { log.firstIndex }
    /// The last index in the log (etcd's LastIndex), written but maybe not yet durable.
    public var lastIndex: UInt64 { log.lastIndex }
    /// The last index known on disk.
    public var durableIndex: UInt64 { mu.withLock { curDurable } }
    /// The highest index known committed.
    public var commitIndex: UInt64 { mu.withLock { curCommit } }
    /// The last applied index.
    public var appliedIndex: UInt64 { mu.withLock { curApplied } }

    /// The term of entry `index` for `firstIndex - 1 ... lastIndex`: `firstIndex - 1` is the compaction
    /// boundary or the installed snapshot's index, whose term the log keeps (etcd's `Term(i)`); 0 for index
    /// 0 of a new log. Throws `.compacted` below that, `.unavailable` past `lastIndex`. Cost: O(1) from an
    /// in-memory table, no disk access.
    public func term(at index: UInt64) throws -> UInt64 {
        do { return try log.term(at: index) } catch { throw EngineError.wrap(error) }
    }

    /// Entries `from..<to`, stopping before `maxBytes` of payload but always at least one (etcd's
    /// `Entries(lo, hi, maxSize)`), in one buffer. Throws `.compacted` when `from < firstIndex`,
    /// `.unavailable` when `to > lastIndex + 1`, `.invalidArgument` when `to < from`, `.log`.
    public func entries(from: UInt64, to: UInt64, maxBytes: Int = .max) throws -> EntryBatch {
        guard to >= from else { throw EngineError.invalidArgument("range \(from)..<\(to) is empty backwards") }
        let first = log.firstIndex
        let last = log.lastIndex
        if from < first { throw EngineError.compacted(index: from, firstIndex: first) }
        if to > last + 1 { throw EngineError.unavailable(index: to - 1, lastIndex: last) }
        if to == from { return EntryBatch() }
        do { return try log.read(from: from, maxCount: Int(to - from), maxBytes: maxBytes) } catch {
            throw EngineError.wrap(error)
        }
    }

    /// The entry at `index` with its own payload copy. Throws `.compacted`, `.unavailable`, `.log`.
    public func entry(at index: UInt64) throws -> Entry {
        do { return try log.entry(at: index) } catch { throw EngineError.wrap(error) }
    }
}
