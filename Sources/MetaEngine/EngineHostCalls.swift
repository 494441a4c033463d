// The host's durable record and commit index: term, vote, commit and named values, saved together in
// the log's hard-state file (temporary file, fsync, rename, directory fsync).

import MetaFSM
import MetaLog

extension MetaEngine {
    /// The host's last saved term, vote and named values, with the current commit index.
    public var hostState: HostState {
        mu.withLock {
            var h = host
            h.commit = curCommit
            return h
        }
    }

    /// Saves `state` durably and atomically (after a crash the old or the new record is read back, never a
    /// mix); the commit index becomes the higher of `state.commit` and the current one. Named values
    /// replace the host's previous ones; keys starting with "engine." are refused. Throws
    /// `.invalidArgument`, `.closed`, `.failed`, `.log` (`.noSpace` keeps the old record).
    /// Cost: one small write and one fdatasync (a hard-state record in the log's active segment).
    public func saveHostState(_ state: HostState) throws {
        guard !state.values.keys.contains(where: { $0.hasPrefix("engine.") }) else {
            throw EngineError.invalidArgument("host value keys must not start with \"engine.\"")
        }
        try saveHardState { h in
            h.term = state.term
            h.vote = state.vote
            h.values = state.values
            h.commit = max(h.commit, state.commit)
        }
        advanceCommit(to: state.commit)
    }

    /// Advances the commit index to `index` (lower values are ignored): committed entries the log holds are
    /// applied by the apply loop. Not durable by itself: the commit index is saved in the same fdatasync as
    /// the next appended group (a hard-state record after the entries), or by `saveHostState`,
    /// `commit(to:durable: true)` or `close`; after a crash the engine replays through the last saved
    /// commit index and the host re-learns the rest from its consensus.
    public func commit(to index: UInt64) {
        advanceCommit(to: index)
    }

    /// Advances the commit index and, with `durable`, saves it in the hard state before returning.
    /// Throws like `saveHostState`.
    public func commit(to index: UInt64, durable: Bool) throws {
        advanceCommit(to: index)
        if durable { try saveHardState { _ in } }
    }

    func advanceCommit(to index: UInt64) {
        mu.withLock {
            if index > curCommit {
                curCommit = index
                metrics.commitIndex.record(Int64(index))
                applyWake.signal()
            }
        }
    }

    /// Builds the next hard state from the current one with `change` (commit set to the current commit
    /// index first) and saves it. Saves are ordered: each is built and written under `hardStateLock`.
    func saveHardState(_ change: (inout HostState) -> Void) throws {
        try hardStateLock.withLock {
            var next: HostState = try mu.withLock {
                if let failure { throw failure }
                var h = host
                h.commit = max(h.commit, curCommit)
                return h
            }
            change(&next)
            do {
                try log.saveHardState(next.hardState)
            } catch {
                let e = EngineError.wrap(error)
                if case .log(.failed) = e { fail(e) }
                throw e
            }
            mu.withLock { host = next }
        }
    }
}
