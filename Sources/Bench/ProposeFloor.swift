import Foundation
import MetaLog

/// engine-propose-floor: the engine-propose loop with the engine taken out. The same proposer tasks (one
/// command each, waiting on a continuation) hand their commands to one writer thread, which waits until
/// every proposer still running has queued, appends them with one call of the log append-sync-batch
/// measures (`.syncEveryAppend`: one write and one fdatasync), and resumes them all. No state machine, no
/// apply, no waiters, no hard state, no metrics: the bar's own I/O per group plus what a closed loop of
/// Swift tasks around it costs on this machine, the floor under engine-propose's round trip.
enum ProposeFloor {
    struct Outcome {
        var seconds: Double
        var latency: LatencyRecorder
        var groups: Int
    }

    static func run(directory: String, commands: [[UInt8]], proposers: Int, segmentBytes: Int) throws -> Outcome {
        try BenchDirectory.clear(directory)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes, durability: .syncEveryAppend))
        let writer = FloorWriter(log: log, commands: commands, proposers: proposers)
        let thread = Thread { writer.loop() }
        thread.start()
        let loop = Result {
            try EngineWorkloads.closedLoop(proposers: proposers, commands: commands.count, taskDone: { writer.leave() }) {
                { k in
                    try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in writer.enqueue(k, c) }
                }
            }
        }
        // The writer thread ends and the log closes whether or not a proposal failed.
        writer.stop()
        writer.finished.wait()
        let last = log.lastIndex
        try log.close()
        BenchDirectory.remove(directory)
        let (seconds, merged) = try loop.get()
        guard last == UInt64(commands.count) else {
            throw BenchFailure(description: "engine-propose-floor: log ends at \(last), expected \(commands.count)")
        }
        return Outcome(seconds: seconds, latency: merged, groups: writer.groups)
    }
}

/// The floor's writer: one thread, one group per full queue, one fdatasync per group.
final class FloorWriter: @unchecked Sendable {
    private let cond = NSCondition()
    private var queue: [(k: Int, c: CheckedContinuation<Void, Error>)] = []
    private var active: Int
    private var stopping = false
    /// Signalled when `loop` returns (after `stop()`, once the queue is empty).
    let finished = DispatchSemaphore(value: 0)
    /// Groups written; read after `finished`.
    private(set) var groups = 0
    private let log: Log
    private let commands: [[UInt8]]

    init(log: Log, commands: [[UInt8]], proposers: Int) {
        self.log = log
        self.commands = commands
        self.active = proposers
    }

    /// Queues command `k`; the writer resumes `c` once its group is durable.
    func enqueue(_ k: Int, _ c: CheckedContinuation<Void, Error>) {
        cond.lock()
        queue.append((k, c))
        if queue.count >= active { cond.signal() }
        cond.unlock()
    }

    /// A proposer has no more commands: the writer stops waiting for it.
    func leave() {
        cond.lock()
        active -= 1
        cond.signal()
        cond.unlock()
    }

    /// Ends `loop` once the queue is empty.
    func stop() {
        cond.lock()
        stopping = true
        cond.signal()
        cond.unlock()
    }

    /// The writer thread's body: waits for a full queue, appends it with one synced call, resumes it.
    func loop() {
        var batch = EntryBatch(reservingBytes: 64 << 10)
        var group: [(k: Int, c: CheckedContinuation<Void, Error>)] = []
        while true {
            cond.lock()
            while !stopping && (queue.isEmpty || queue.count < active) { cond.wait() }
            if stopping && queue.isEmpty {
                cond.unlock()
                finished.signal()
                return
            }
            swap(&group, &queue)
            cond.unlock()
            batch.removeAll(keepingCapacity: true)
            for (k, _) in group { batch.append(term: 1, payload: commands[k]) }
            var failure: Error?
            do {
                _ = try log.append(batch)
            } catch {
                failure = error
            }
            groups += 1
            for (_, c) in group {
                if let failure { c.resume(throwing: failure) } else { c.resume() }
            }
            group.removeAll(keepingCapacity: true)
        }
    }
}
