import Dispatch
import Foundation
import Synchronization
import MetaEngine
import MetaInflux

/// A key-value machine for the engine's recovery and snapshot workloads: a put is 8 bytes of key and 8 of
/// value (the rest of the payload is padding). The state is 256 `[UInt64: UInt64]` shards (no object per
/// key): after a snapshot's freeze, the first write to a shard copies that shard only (1/256 of the table),
/// so the apply loop's copy-on-write pause is spread thin instead of one whole-table copy.
struct BenchKVMachine: StateMachine, Sendable {
    typealias ApplyResult = Bool
    static let kind = "bench-kv"
    static let snapshotVersion: UInt32 = 1
    static let shardCount = 256
    var shards: [[UInt64: UInt64]] = Array(repeating: [:], count: shardCount)
    var appliedIndex: UInt64 = 0
    var appliedTerm: UInt64 = 0

    var count: Int { shards.reduce(0) { $0 + $1.count } }

    @inline(__always)
    static func shard(_ key: UInt64) -> Int { Int((key &* 0x9E37_79B9_7F4A_7C15) >> 56) }

    mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> Bool {
        appliedIndex = index
        appliedTerm = term
        guard payload.count >= 16 else { return false }
        let key = payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
        shards[Self.shard(key)][key] = payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        return true
    }

    mutating func skip(index: UInt64, term: UInt64) {
        appliedIndex = index
        appliedTerm = term
    }

    func writeSnapshot(to sink: inout some SnapshotSink) throws {
        var buffer = [UInt64]()
        buffer.reserveCapacity(8192)
        buffer += [appliedIndex, appliedTerm, UInt64(count)]
        for shard in shards {
            for (k, v) in shard {
                buffer.append(k)
                buffer.append(v)
                if buffer.count >= 8192 {
                    try buffer.withUnsafeBytes { try sink.write($0) }
                    buffer.removeAll(keepingCapacity: true)
                }
            }
        }
        try buffer.withUnsafeBytes { try sink.write($0) }
    }

    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        var words = [UInt64](repeating: 0, count: 8192)
        var header: [UInt64] = []
        var fresh: [[UInt64: UInt64]] = Array(repeating: [:], count: Self.shardCount)
        var restored = 0
        var pendingKey: UInt64?
        while true {
            let n = try words.withUnsafeMutableBytes { try source.read(into: $0) }
            if n == 0 { break }
            guard n % 8 == 0 else { throw BenchFailure(description: "bench-kv snapshot not a multiple of 8 bytes") }
            for w in words[0..<(n / 8)] {
                if header.count < 3 {
                    header.append(w)
                    if header.count == 3 {
                        for s in 0..<Self.shardCount { fresh[s].reserveCapacity(Int(w) / Self.shardCount + 16) }
                    }
                } else if let k = pendingKey {
                    fresh[Self.shard(k)][k] = w
                    restored += 1
                    pendingKey = nil
                } else {
                    pendingKey = w
                }
            }
        }
        guard header.count == 3, pendingKey == nil, UInt64(restored) == header[2] else {
            throw BenchFailure(description: "bench-kv snapshot truncated")
        }
        shards = fresh
        appliedIndex = header[0]
        appliedTerm = header[1]
    }
}

/// engine-propose, engine-recover, engine-snapshot.
enum EngineWorkloads {
    /// Runs `body` (async) to the end from synchronous code.
    static func block<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<T, Error>?
        Task {
            do { result = .success(try await body()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        guard let result else { throw BenchFailure(description: "task ended without a result") }
        return try result.get()
    }

    /// Runs `proposers` tasks in a closed loop: each takes the next command number below `commands` and
    /// awaits its proposer on it (one proposer per task, made by `makeProposer` in the task, so it may keep
    /// state such as a reused batch), until none is left; `taskDone` runs as each task ends. Returns the wall
    /// time and every proposal's latency.
    static func closedLoop(proposers: Int, commands: Int, taskDone: @escaping @Sendable () -> Void = {},
                           makeProposer: @escaping @Sendable () -> (Int) async throws -> Void) throws
        -> (seconds: Double, latency: LatencyRecorder)
    {
        let next = ProposeCounter()
        let start = BenchClock.nanos()
        let recorders = try block { () async throws -> [LatencyRecorder] in
            try await withThrowingTaskGroup(of: LatencyRecorder.self) { group in
                for _ in 0..<proposers {
                    group.addTask {
                        defer { taskDone() }
                        var latency = LatencyRecorder()
                        let propose = makeProposer()
                        while let k = next.take(below: commands) {
                            let t0 = BenchClock.nanos()
                            try await propose(k)
                            latency.record(nanos: BenchClock.nanos() &- t0)
                        }
                        return latency
                    }
                }
                var all: [LatencyRecorder] = []
                for try await r in group { all.append(r) }
                return all
            }
        }
        let seconds = BenchClock.seconds(since: start)
        var merged = LatencyRecorder()
        for r in recorders { merged.merge(r) }
        return (seconds, merged)
    }

    /// engine-propose: `proposers` tasks each propose one InfluxDB command at a time and wait until it is
    /// durable and applied; the row before it is `append-sync-batch` with batch = proposers in the same run
    /// (the log alone, one fdatasync per call of that many entries).
    static func propose(directory: String, entries: Int, proposers: Int, options: BenchOptions) throws -> [BenchResult] {
        let logDir = directory + "/append-sync-batch-\(proposers)"
        let baseline = try LogWorkloads.append(
            workload: "append-sync-batch", directory: logDir,
            params: LogParams(entries: entries, entryBytes: 128, batch: proposers, reads: 0),
            syncEachCall: true, options: options)
        BenchDirectory.remove(logDir)

        let engineDir = directory + "/engine-propose"
        try BenchDirectory.clear(engineDir)
        let commands = InfluxWorkloadGenerator.stream(commands: entries).map { $0.encoded() }
        let payloadBytes = commands.reduce(0) { $0 + $1.count }
        var o = EngineOptions()
        o.commitOnDurable = true
        let metrics = BenchMetrics()
        o.metricsFactory = metrics
        let engine = try MetaEngine(directory: engineDir, stateMachine: InfluxStateMachine(), options: o)
        let (seconds, merged) = try closedLoop(proposers: proposers, commands: commands.count) {
            var batch = EntryBatch(reservingBytes: 512)
            return { k in
                batch.removeAll(keepingCapacity: true)
                batch.append(term: 1, payload: commands[k])
                _ = try await engine.proposeAndWait(batch)
            }
        }
        try engine.close()
        let rate = Double(entries) / seconds
        let ratio = rate / baseline.entriesPerSecond
        // A proposal's p99 in units of the same run's fdatasync-per-call latency (append-sync-batch's
        // percentiles), against the target of at most 2.
        let syncP50 = baseline.extra.first { $0.name == "p50_us" }?.value ?? 0
        let syncP99 = baseline.extra.first { $0.name == "p99_us" }?.value ?? 0
        let p99 = merged.extras.first { $0.name == "p99_us" }?.value ?? 0
        var extra = merged.extras
        extra.append(("ratio_vs_append_sync_batch", (ratio * 1000).rounded() / 1000))
        extra.append(("p99_over_sync_p50", syncP50 > 0 ? (p99 / syncP50 * 100).rounded() / 100 : 0))
        extra.append(("p99_over_sync_p99", syncP99 > 0 ? (p99 / syncP99 * 100).rounded() / 100 : 0))
        extra += metrics.engineBreakdown(seconds: seconds)

        // The same proposers around a bare writer thread and log (no engine): the floor of the round trip.
        let floor = try ProposeFloor.run(directory: directory + "/engine-propose-floor", commands: commands,
                                         proposers: proposers, segmentBytes: o.segmentBytes)
        let floorRate = Double(entries) / floor.seconds
        let floorRatio = floorRate / baseline.entriesPerSecond
        extra.append(("ratio_vs_floor", (rate / floorRate * 1000).rounded() / 1000))
        let result = BenchResult(
            workload: "engine-propose", entries: entries, entryBytes: payloadBytes / max(entries, 1), batch: 1,
            seconds: seconds,
            note: "\(proposers) proposers, InfluxDB commands, each waits durable+applied; "
                + "\(String(format: "%.2f", ratio))x append-sync-batch --batch \(proposers); dir \(engineDir)",
            extra: extra)
        var floorExtra = floor.latency.extras
        floorExtra.append(("ratio_vs_append_sync_batch", (floorRatio * 1000).rounded() / 1000))
        floorExtra.append(("groups", Double(floor.groups)))
        let floorResult = BenchResult(
            workload: "engine-propose-floor", entries: entries, entryBytes: payloadBytes / max(entries, 1), batch: 1,
            seconds: floor.seconds,
            note: "the same \(proposers) proposer tasks around one writer thread and a bare log (one append and "
                + "fdatasync per full group, no engine, no apply): \(String(format: "%.2f", floorRatio))x "
                + "append-sync-batch --batch \(proposers)",
            extra: floorExtra)
        return [baseline, result, floorResult]
    }

    /// The payload of put k (key k % keys, value k), padded to 32 bytes.
    static func put(_ k: UInt64, keys: UInt64, into buffer: UnsafeMutableRawBufferPointer) {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffer.storeBytes(of: k % keys, toByteOffset: 0, as: UInt64.self)
        buffer.storeBytes(of: k, toByteOffset: 8, as: UInt64.self)
    }

    /// Appends puts k in `range` in batches of 1000 through `engine` (durable, committed) and waits until applied.
    static func load(_ engine: MetaEngine<BenchKVMachine>, _ range: ClosedRange<UInt64>, keys: UInt64) throws {
        var batch = EntryBatch(reservingBytes: 1000 * 64)
        var k = range.lowerBound
        while k <= range.upperBound {
            batch.removeAll(keepingCapacity: true)
            let last = min(range.upperBound, k + 999)
            for j in k...last { batch.append(term: 1, kind: 0, payloadCount: 32) { put(j, keys: keys, into: $0) } }
            _ = try engine.proposeSync(batch)
            k = last + 1
        }
        _ = try engine.waitForAppliedSync(engine.lastIndex, timeoutNanos: 600_000_000_000)
    }

    /// engine-recover: an engine holding a snapshot of `keys` keys and `keys` log entries after it is opened
    /// (timed); MB/s of snapshot reading and of log reading+applying from the recovery report.
    static func recover(directory: String, keys: Int, options: BenchOptions) throws -> [BenchResult] {
        let dir = directory + "/engine-recover"
        try BenchDirectory.clear(dir)
        var o = EngineOptions()
        o.commitOnDurable = true
        o.snapshotEveryEntries = 0
        o.snapshotEveryBytes = 0
        o.trailingEntries = 0
        let n = UInt64(keys)
        var engine = try MetaEngine(directory: dir, stateMachine: BenchKVMachine(), options: o)
        try load(engine, 1...n, keys: n)
        _ = try engine.snapshotSync()
        try load(engine, (n + 1)...(2 * n), keys: n)
        try engine.close()
        let snapshotFile = try FileManager.default.contentsOfDirectory(atPath: dir + "/snapshots")
            .filter { $0.hasSuffix(".msnap") }.first ?? ""
        let start = BenchClock.nanos()
        engine = try MetaEngine(directory: dir, stateMachine: BenchKVMachine(), options: o)
        let seconds = BenchClock.seconds(since: start)
        let r = engine.recovery
        guard engine.read({ $0.count }) == keys, r.entriesReplayed == n else {
            throw BenchFailure(description: "engine-recover: \(engine.read { $0.count }) keys, \(r.entriesReplayed) replayed")
        }
        try engine.close()
        let logBytes = Double(r.entriesReplayed) * 64  // 32-byte payload + 32-byte frame header/padding on disk
        let snapMB = Double(r.snapshotBytes) / 1_048_576 / (Double(r.snapshotNanos) / 1e9)
        let raw = (try? SnapshotReader(path: dir + "/snapshots/" + snapshotFile).layout.rawLength) ?? 0
        let rawMB = Double(raw) / 1_048_576 / (Double(r.snapshotNanos) / 1e9)
        let logMB = logBytes / 1_048_576 / (Double(r.replayNanos) / 1e9)
        return [BenchResult(
            workload: "engine-recover", entries: keys * 2, entryBytes: 32, batch: 1, seconds: seconds,
            note: "open: snapshot \(snapshotFile) (\(keys) keys, \(r.snapshotBytes) bytes) + \(r.entriesReplayed) entries replayed",
            extra: [
                ("snapshot_s", Double(r.snapshotNanos) / 1e9), ("snapshot_mb_per_s", (snapMB * 10).rounded() / 10),
                ("snapshot_raw_mb_per_s", (rawMB * 10).rounded() / 10),
                ("replay_s", Double(r.replayNanos) / 1e9), ("log_mb_per_s", (logMB * 10).rounded() / 10),
            ])]
    }

    /// engine-snapshot: with `keys` keys applied, one proposer keeps proposing batches of 100 puts while an
    /// automatic snapshot is taken; reports the snapshot's duration, the freeze, and the worst latency of a
    /// proposal (durable+applied) during the snapshot next to the median before it.
    static func snapshot(directory: String, keys: Int, options: BenchOptions) throws -> [BenchResult] {
        let dir = directory + "/engine-snapshot"
        try BenchDirectory.clear(dir)
        let n = UInt64(keys)
        var o = EngineOptions()
        o.commitOnDurable = true
        o.snapshotEveryEntries = n + 5_000  // due 5,000 entries into the measured stream
        o.snapshotEveryBytes = 0
        o.trailingEntries = 0
        let engine = try MetaEngine(directory: dir, stateMachine: BenchKVMachine(), options: o)
        try load(engine, 1...n, keys: n)
        var before = LatencyRecorder()
        var during = LatencyRecorder()
        var batch = EntryBatch(reservingBytes: 100 * 64)
        var k = n + 1
        var sawSnapshot = false
        let deadline = BenchClock.nanos() + 600_000_000_000
        while BenchClock.nanos() < deadline {
            batch.removeAll(keepingCapacity: true)
            for j in k..<(k + 100) { batch.append(term: 1, kind: 0, payloadCount: 32) { put(j, keys: n, into: $0) } }
            k += 100
            let t0 = BenchClock.nanos()
            let range = try engine.proposeSync(batch)
            _ = try engine.waitForAppliedSync(range.upperBound, timeoutNanos: 60_000_000_000)
            let took = BenchClock.nanos() &- t0
            let p = engine.progress
            if p.snapshotInProgress || (sawSnapshot == false && p.latestSnapshot != nil) {
                sawSnapshot = true
                during.record(nanos: took)
            } else if !sawSnapshot {
                before.record(nanos: took)
            } else {
                break
            }
        }
        let p = engine.progress
        try engine.close()
        guard let id = p.latestSnapshot else { throw BenchFailure(description: "engine-snapshot: no snapshot was taken") }
        let size = try FileManager.default.attributesOfItem(atPath: dir + "/snapshots/" + id.fileName)[.size] as? Int ?? 0
        let p50Before = before.extras.first { $0.name == "p50_us" }?.value ?? 0
        let maxDuring = during.extras.first { $0.name == "max_us" }?.value ?? 0
        return [BenchResult(
            workload: "engine-snapshot", entries: keys, entryBytes: 16, batch: 100,
            seconds: Double(p.lastSnapshotNanos) / 1e9,
            note: "automatic snapshot of \(keys) keys (\(size) bytes) while proposals of 100 puts continue",
            extra: [
                ("freeze_us", Double(p.lastSnapshotPauseNanos) / 1000),
                ("proposal_p50_before_us", p50Before), ("proposal_max_during_us", maxDuring),
                ("proposals_during", Double(during.count)),
            ])]
    }
}

/// Hands out command numbers to the proposers (one atomic add each: no lock that two pool threads could
/// contend on, which would put a futex sleep into the round trip being measured).
final class ProposeCounter: Sendable {
    private let next = Atomic<Int>(0)
    func take(below limit: Int) -> Int? {
        let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
        return k < limit ? k : nil
    }
}
