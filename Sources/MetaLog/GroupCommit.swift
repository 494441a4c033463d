/// Group commit: concurrent appenders queue their batches; one of them (the leader) writes every queued
/// batch with as few write(2)s as possible and one fdatasync, then wakes the others. Each caller returns
/// once its own entries are durable (or with the error that stopped them).
final class GroupCommit: @unchecked Sendable {
    struct Request {
        var ticket: UInt64
        var batch: EntryBatch
        var expected: UInt64?
    }

    private let mutex = Mutex()
    private var pending: [Request] = []
    private var spare: [Request] = []
    private var leaderActive = false
    private var nextTicket: UInt64 = 0
    private var results: [UInt64: Result<ClosedRange<UInt64>, LogError>] = [:]

    /// Queues `batch` and returns when it is durable; may become the leader that writes for everyone.
    func submit(_ batch: EntryBatch, expected: UInt64?, log: Log) throws -> ClosedRange<UInt64> {
        mutex.lock()
        let ticket = nextTicket
        nextTicket += 1
        pending.append(Request(ticket: ticket, batch: batch, expected: expected))
        while true {
            if let result = results.removeValue(forKey: ticket) {
                mutex.unlock()
                return try result.get()
            }
            if !leaderActive {
                leaderActive = true
                swap(&pending, &spare)
                var work = spare
                spare = []
                mutex.unlock()
                let outcomes = log.commitGroup(work)
                work.removeAll(keepingCapacity: true)
                mutex.lock()
                for (ticket, outcome) in outcomes { results[ticket] = outcome }
                if spare.isEmpty { spare = work }
                leaderActive = false
                mutex.broadcast()
                continue
            }
            mutex.wait()
        }
    }
}

extension Log {
    /// Writes and syncs one group of requests (the group-commit leader). Returns each ticket's outcome.
    func commitGroup(_ requests: [GroupCommit.Request]) -> [(UInt64, Result<ClosedRange<UInt64>, LogError>)] {
        writer.lock()
        defer { writer.unlock() }
        var outcomes: [(UInt64, Result<ClosedRange<UInt64>, LogError>)] = []
        outcomes.reserveCapacity(requests.count)
        do { try checkUsable() } catch {
            for request in requests { outcomes.append((request.ticket, .failure(error))) }
            return outcomes
        }
        // Contiguity checks for `append(_:at:)` requests, in queue order.
        var accepted: [EntryBatch] = []
        var acceptedTickets: [UInt64] = []
        accepted.reserveCapacity(requests.count)
        var next = last + 1
        for request in requests {
            if let expected = request.expected, expected != next {
                outcomes.append((request.ticket, .failure(.nonContiguous(expected: next, found: expected))))
                continue
            }
            accepted.append(request.batch)
            acceptedTickets.append(request.ticket)
            next += UInt64(request.batch.count)
        }
        let (ranges, writeError) = accepted.withUnsafeBufferPointer { writeLocked($0) }
        var syncError: LogError?
        if !ranges.isEmpty {
            do { try syncLocked() } catch { syncError = error }
        }
        for (position, ticket) in acceptedTickets.enumerated() {
            if position < ranges.count {
                outcomes.append((ticket, syncError.map { .failure($0) } ?? .success(ranges[position])))
            } else {
                outcomes.append((ticket, .failure(syncError ?? writeError ?? .closed)))
            }
        }
        return outcomes
    }
}
