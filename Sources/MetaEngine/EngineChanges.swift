// Following the applied stream: an AsyncSequence of applied entries with their results, for watchers,
// replicators (primary/backup) and caches. Pull-based: each step waits for the next index to be applied,
// then reads it from the log, so a slow follower costs nothing but its position.

import MetaFSM
import MetaLog

/// One applied entry, as `MetaEngine.changes(after:)` yields it.
public struct EngineChange<Result: Sendable>: Sendable {
    /// The entry's index.
    public var index: UInt64
    /// The entry's term.
    public var term: UInt64
    /// What the entry is.
    public var kind: EntryKind
    /// The entry's payload.
    public var payload: [UInt8]
    /// The state machine's result: nil for entries it did not apply, and when the result is no longer held
    /// (older than the engine's result window).
    public var result: Result?
}

/// The applied entries after an index, in order, forever (until the engine closes: the sequence then
/// throws `.closed`). Throws `.compacted` when the next entry is no longer in the log (a follower must then
/// start again from a snapshot).
public struct EngineChanges<M: StateMachine & Sendable>: AsyncSequence, Sendable where M.ApplyResult: Sendable {
    /// One applied entry.
    public typealias Element = EngineChange<M.ApplyResult>
    let engine: MetaEngine<M>
    let after: UInt64

    /// The iterator: holds only its next index.
    public struct AsyncIterator: AsyncIteratorProtocol {
        let engine: MetaEngine<M>
        var next: UInt64

        /// Waits until the next entry is applied and returns it. Throws `.compacted`, `.closed`,
        /// `.failed`, `CancellationError`.
        public mutating func next() async throws -> EngineChange<M.ApplyResult>? {
            _ = try await engine.waitApplied(next)
            let change = try engine.change(at: next)
            next += 1
            return change
        }
    }

    /// An iterator starting after `after`.
    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(engine: engine, next: after + 1) }
}

extension MetaEngine {
    /// The applied entries after `index`, in order (see `EngineChanges`). Resumes from any index whose
    /// successor is still in the log; fails with `.compacted` otherwise.
    public func changes(after index: UInt64) -> EngineChanges<M> {
        EngineChanges(engine: self, after: index)
    }

    /// Waits (cancellably, without timeout) until `index` is applied.
    func waitApplied(_ index: UInt64) async throws {
        let box = WaiterIDBox()
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                    let id = addWaiter(index, wantsResult: false, resumesTask: true) { c.resume(with: $0.map { _ in () }.mapError { $0 as Error }) }
                    if let id, box.set(id) { cancelWaiter(id, with: .cancelled) }
                }
            } onCancel: {
                if let id = box.cancel() { cancelWaiter(id, with: .cancelled) }
            }
        } catch EngineError.cancelled {
            throw CancellationError()
        }
    }

    /// The applied entry `index` with its kept result. Throws `.compacted`, `.unavailable`, `.log`.
    func change(at index: UInt64) throws -> EngineChange<M.ApplyResult> {
        let entry: Entry
        do { entry = try log.entry(at: index) } catch { throw EngineError.wrap(error) }
        let result: M.ApplyResult? = mu.withLock {
            if case let .success(r) = resultLocked(index) { return r }
            return nil
        }
        return EngineChange(index: index, term: entry.term, kind: EntryKind(rawValue: entry.kind),
                            payload: entry.payload, result: result)
    }
}
