/// Group commit: concurrent appenders queue their batches; one of them (the leader) writes every queued
/// batch with as few write(2)s as possible and one fdatasync, then wakes the others. Each caller returns
/// once its own entries are durable (or with the error that stopped them). Async callers
/// (`Log.appendAsync`) queue a continuation instead of a waiting thread; when only they are left
/// waiting, a leader task is started for them.
final class GroupCommit: @unchecked Sendable {
    typealias Outcome = Result<ClosedRange<UInt64>, LogError>

    struct Request {
        var ticket: UInt64
        var batch: EntryBatch
        var expected: UInt64?
        var hardState: HardState?
        var continuation: CheckedContinuation<ClosedRange<UInt64>, any Error>?
    }

    private let mutex = Mutex()
    private var pending: [Request] = []
    private var spare: [Request] = []
    private var leaderActive = false
    private var nextTicket: UInt64 = 0
    private var results: [UInt64: Outcome] = [:]

    /// Queues `batch` and returns when it is durable; may become the leader that writes for everyone.
    func submit(_ batch: EntryBatch, expected: UInt64?, hardState: HardState?, log: Log) throws -> ClosedRange<UInt64> {
        mutex.lock()
        let ticket = nextTicket
        nextTicket += 1
        pending.append(Request(ticket: ticket, batch: batch, expected: expected, hardState: hardState, continuation: nil))
        while true {
            if let result = results.removeValue(forKey: ticket) {
                mutex.unlock()
                return try result.get()
            }
            if !leaderActive {
                leadLocked(log)
                continue
            }
            mutex.wait()
        }
    }

    /// Queues `batch` as a suspended continuation; the caller leads the group itself when none is in
    /// progress (one thread doing the write and the fdatasync for everyone queued).
    func submitAsync(_ batch: EntryBatch, expected: UInt64?, hardState: HardState?, log: Log) async throws
        -> ClosedRange<UInt64>
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<ClosedRange<UInt64>, any Error>) in
            mutex.lock()
            let ticket = nextTicket
            nextTicket += 1
            pending.append(Request(ticket: ticket, batch: batch, expected: expected, hardState: hardState, continuation: continuation))
            if !leaderActive { leadLocked(log) }
            mutex.unlock()
        }
    }

    /// Writes every queued request as one group (mutex held on entry and on return; released while
    /// writing), delivers the outcomes, and makes sure someone leads what queued meanwhile.
    private func leadLocked(_ log: Log) {
        leaderActive = true
        swap(&pending, &spare)
        var work = spare
        spare = []
        mutex.unlock()
        let outcomes = log.commitGroup(work)
        var resume: [(CheckedContinuation<ClosedRange<UInt64>, any Error>, Outcome)] = []
        mutex.lock()
        for (position, outcome) in outcomes.enumerated() {
            if let continuation = work[position].continuation {
                resume.append((continuation, outcome))
            } else {
                results[work[position].ticket] = outcome
            }
        }
        work.removeAll(keepingCapacity: true)
        if spare.isEmpty { spare = work }
        leaderActive = false
        mutex.broadcast()
        // A queued synchronous caller's thread wakes and leads the next group; if only suspended async
        // callers are queued, nobody would.
        let orphaned = !pending.isEmpty && !pending.contains { $0.continuation == nil }
        mutex.unlock()
        for (continuation, outcome) in resume { continuation.resume(with: outcome.mapError { $0 as any Error }) }
        if orphaned {
            // Only suspended async callers are queued: start a leader for them.
            Task.detached { [self] in self.leadIfNeeded(log) }
        }
        mutex.lock()
    }

    private func leadIfNeeded(_ log: Log) {
        mutex.lock()
        if !leaderActive && !pending.isEmpty { leadLocked(log) }
        mutex.unlock()
    }
}

extension Log {
    /// Writes and syncs one group of requests (the group-commit leader). Returns each request's outcome,
    /// in request order.
    func commitGroup(_ requests: [GroupCommit.Request]) -> [GroupCommit.Outcome] {
        writer.lock()
        defer { writer.unlock() }
        var outcomes = [GroupCommit.Outcome?](repeating: nil, count: requests.count)
        do { try checkUsable() } catch {
            return requests.map { _ in .failure(error) }
        }
        // Contiguity checks for `append(_:at:)` requests, in queue order.
        var accepted: [EntryBatch] = []
        var acceptedPositions: [Int] = []
        accepted.reserveCapacity(requests.count)
        var expectedNext = last + 1
        for (position, request) in requests.enumerated() {
            if let expected = request.expected, expected != expectedNext {
                outcomes[position] = .failure(.nonContiguous(expected: expectedNext, found: expected))
                continue
            }
            accepted.append(request.batch)
            acceptedPositions.append(position)
            expectedNext += UInt64(request.batch.count)
        }
        let start = last + 1
        let (written, writeError) = accepted.withUnsafeBufferPointer { writeLocked($0) }
        var ranges: [ClosedRange<UInt64>] = []
        ranges.reserveCapacity(written)
        var next = start
        for batch in accepted.prefix(written) {
            ranges.append(next...(next + UInt64(batch.count) - 1))
            next += UInt64(batch.count)
        }
        // The newest hard state among the written requests rides with them (one record, same sync).
        var recordError: LogError?
        var recorded = false
        if let newest = acceptedPositions.prefix(written).last(where: { requests[$0].hardState != nil }),
            let hardState = requests[newest].hardState
        {
            do { recorded = try writeHardStateLocked(hardState) } catch { recordError = error }
        }
        var syncError: LogError? = recordError
        if !ranges.isEmpty && syncError == nil && options.durability != .manual {
            do { try syncLocked(force: recorded) } catch { syncError = error }
        }
        for (k, position) in acceptedPositions.enumerated() {
            if k < ranges.count {
                outcomes[position] = syncError.map { .failure($0) } ?? .success(ranges[k])
            } else {
                outcomes[position] = .failure(syncError ?? writeError ?? .closed)
            }
        }
        return outcomes.map { $0 ?? .failure(.closed) }
    }
}
