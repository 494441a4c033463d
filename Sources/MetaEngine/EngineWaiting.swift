// Waiting for the apply loop: a caller's result for its entry, InfluxDB's afterIndex long poll, and the
// blocking and callback forms for synchronous hosts.

import MetaFSM

extension MetaEngine {
    /// Registers a waiter, or answers at once when `index` is already applied (or the engine is closed).
    /// Returns the waiter id (nil when answered at once).
    @discardableResult
    func addWaiter(_ index: UInt64, wantsResult: Bool, resumesTask: Bool = false,
                   _ resume: @escaping (Result<M.ApplyResult?, EngineError>) -> Void) -> UInt64? {
        let (answer, id): (Result<M.ApplyResult?, EngineError>?, UInt64) = mu.withLock {
            if closing { return (.failure(.closed), 0) }
            if let failure { return (.failure(failure), 0) }
            if index <= curApplied { return (wantsResult ? resultLocked(index) : .success(nil), 0) }
            nextWaiterID += 1
            waiters.append(Waiter(id: nextWaiterID, index: index, wantsResult: wantsResult, resumesTask: resumesTask, resume: resume))
            return (nil, nextWaiterID)
        }
        if let answer {
            resume(answer)
            return nil
        }
        return id
    }

    /// Removes waiter `id` (if still waiting) and answers it with `error`.
    func cancelWaiter(_ id: UInt64, with error: EngineError) {
        let w: Waiter? = mu.withLock {
            guard let k = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: k)
        }
        w?.resume(.failure(error))
    }

    /// Waits until entry `index` is applied and returns the state machine's result for it: nil for an
    /// entry the machine did not apply (no-op, membership, host kinds). A leader host answers its client
    /// with it. Throws `.resultUnavailable` when the result is no longer held (older than
    /// `resultWindow`, or covered by an installed snapshot), `.closed`, `.failed`, `CancellationError`
    /// when the task is cancelled. Cost: O(waiters) per applied batch.
    public func applied(_ index: UInt64) async throws -> M.ApplyResult? {
        let box = WaiterIDBox()
        do {
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<M.ApplyResult?, Error>) in
                    let id = addWaiter(index, wantsResult: true, resumesTask: true) { c.resume(with: $0.mapError { $0 as Error }) }
                    if let id, box.set(id) { cancelWaiter(id, with: .cancelled) }
                }
            } onCancel: {
                if let id = box.cancel() { cancelWaiter(id, with: .cancelled) }
            }
        } catch EngineError.cancelled {
            throw CancellationError()
        }
    }

    /// Waits until `index` is applied or `timeout` passes (InfluxDB's `afterIndex` long poll). Returns
    /// true once applied, false on timeout. Throws `.closed`, `.failed`, `CancellationError`.
    public func waitForApplied(_ index: UInt64, timeout: Duration) async throws -> Bool {
        let box = WaiterIDBox()
        do {
            try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
                    let id = addWaiter(index, wantsResult: false, resumesTask: true) { c.resume(with: $0.map { _ in () }.mapError { $0 as Error }) }
                    guard let id else { return }
                    if box.set(id) {
                        cancelWaiter(id, with: .cancelled)
                        return
                    }
                    Task { [weak self] in
                        try? await Task.sleep(for: timeout)
                        self?.cancelWaiter(id, with: .timedOut(index: index))
                    }
                }
            } onCancel: {
                if let id = box.cancel() { cancelWaiter(id, with: .cancelled) }
            }
            return true
        } catch EngineError.timedOut {
            return false
        } catch EngineError.cancelled {
            throw CancellationError()
        }
    }

    /// Blocking form of `waitForApplied` for synchronous callers: true once applied, false after
    /// `timeoutNanos`. Throws `.closed`, `.failed`.
    public func waitForAppliedSync(_ index: UInt64, timeoutNanos: UInt64) throws -> Bool {
        let box = BlockingBox<Result<M.ApplyResult?, EngineError>>()
        guard let id = addWaiter(index, wantsResult: false, { box.put($0) }) else {
            _ = try box.take().get()
            return true
        }
        if let r = box.take(untilRealtimeNanos: realtimeNanos() + timeoutNanos) {
            _ = try r.get()
            return true
        }
        cancelWaiter(id, with: .timedOut(index: index))
        if case .success = box.take() { return true }
        return false
    }

    /// Callback form of `applied(_:)`: `completion` runs with the result or the error on the thread that
    /// applied the entry (the apply thread, or the writer for a small group: `EngineOptions.inlineApplyEntries`),
    /// or at once when it is already applied; keep it short.
    public func onApplied(_ index: UInt64, completion: @escaping @Sendable (Result<M.ApplyResult?, EngineError>) -> Void) {
        addWaiter(index, wantsResult: true, completion)
    }
}

/// Hands a waiter id between registration and a cancellation handler that may run first.
final class WaiterIDBox: @unchecked Sendable {
    private let mutex = EngineMutex()
    private var id: UInt64?
    private var cancelled = false

    /// Stores the id; returns true when cancellation already happened (the caller cancels the waiter).
    func set(_ id: UInt64) -> Bool {
        mutex.withLock {
            self.id = id
            return cancelled
        }
    }

    /// Marks cancelled; returns the id to cancel if it is known.
    func cancel() -> UInt64? {
        mutex.withLock {
            cancelled = true
            return id
        }
    }
}
