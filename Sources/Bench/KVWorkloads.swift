import Foundation
import MetaKV
import MetaLog
import MetaSnapshot

/// The key-value workloads of ../shared/peers (kv-put, kv-get, kv-range, kv-durable): same keys, values,
/// read positions, timed regions and checks as the etcd peers, on MetaKV's state machine.
///
/// - kv-put: the N requests are encoded untimed as etcd's log holds them (InternalRaftRequest{header{ID: i},
///   put{key, value}}); timed: a fresh machine, decode + apply of every entry. MetaKV keeps its state in
///   memory and is made durable by MetaEngine's log and snapshots, so "close" has no bolt commit to do:
///   the figure is the apply cost. Untimed afterwards, the state is written as a snapshot file in D
///   (fsync, reported as `snapshot_s`), restored ("reopen"), and every key, the revision and the applied
///   index are checked. B > 1 is accepted and ignored (every entry is one request, as in etcd's log).
/// - kv-get / kv-range: K keys loaded untimed, then the reads (through ``KVStateMachine/range(_:)``, the
///   read path a host serves from the applied state); every value, count and boundary key is verified.
/// - kv-durable: MetaEngine (group-committed log, commitOnDurable) over this machine, C concurrent clients
///   (KVDurableWorkload.swift).
enum KVWorkloads {
    /// CPU time of this thread (seconds): reported beside wall time, because other builds share the cores.
    static func cpuSeconds() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    struct Params {
        var entries: Int
        var entryBytes: Int
        var batch: Int
        var reads: Int
        var keys: Int
        var clients: Int
    }

    static func key(_ k: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        writeKey(k, into: &out)
        return out
    }

    /// Writes `key(k)` (`key/%012d`) into `out` in place: no allocation once `out` holds a key of this
    /// shape, as the etcd peer reuses its key buffer between reads.
    static func writeKey(_ k: UInt64, into out: inout [UInt8]) {
        if out.count != 16 { out = Array("key/000000000000".utf8) }
        out.withUnsafeMutableBufferPointer { b in
            var n = k
            for p in stride(from: 15, through: 4, by: -1) {
                b[p] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
        }
    }

    static func keyNumber(_ i: UInt64, _ keys: Int) -> UInt64 {
        var g = SplitMix64(state: i)
        return g.next() % UInt64(keys)
    }

    static func run(_ workload: String, directory: String, params p: Params) throws -> BenchResult {
        guard p.keys > 0 else { throw BenchFailure(description: "--keys must be positive") }
        switch workload {
        case "kv-put": return try put(directory: directory, p)
        case "kv-get": return try get(p)
        case "kv-range": return try range(p)
        case "kv-cow": return try cowPause(p)
        default: return try durable(directory: directory, p)
        }
    }

    static func put(directory: String, _ p: Params) throws -> BenchResult {
        let n = p.entries
        var buffer: [UInt8] = []
        buffer.reserveCapacity(n * (p.entryBytes + 40))
        var ends = [Int](repeating: 0, count: n + 1)
        var last = [UInt64](repeating: 0, count: p.keys)
        for i in 1...n {
            let k = keyNumber(UInt64(i), p.keys)
            let r = InternalRaftRequest(.put(PutRequest(key: key(k), value: StandardPayload.make(index: UInt64(i), size: p.entryBytes))),
                                        headerID: UInt64(i))
            buffer += r.encoded()
            ends[i] = buffer.count
            last[Int(k)] = UInt64(i)
        }
        let rss0 = LogSizeWorkloads.anonymousBytes()
        let mallocs0 = MallocCounter.count
        let cpu0 = cpuSeconds()
        let start = BenchClock.nanos()
        var machine = KVStateMachine()
        var rejected = 0
        buffer.withUnsafeBytes { raw in
            for i in 1...n {
                let r = machine.apply(index: UInt64(i), term: 1, payload: UnsafeRawBufferPointer(rebasing: raw[ends[i - 1]..<ends[i]]))
                if case .failure = r { rejected += 1 }
            }
        }
        let seconds = BenchClock.seconds(since: start)
        let cpu = cpuSeconds() - cpu0
        let mallocs = MallocCounter.count - mallocs0
        let rss = LogSizeWorkloads.anonymousBytes() - rss0
        guard rejected == 0 else { throw BenchFailure(description: "kv-put: \(rejected) puts rejected") }

        // Untimed: the state to a snapshot file (fsync), restored, every key checked.
        let path = directory + "/kv-put.msnap"
        try? FileManager.default.removeItem(atPath: path)
        let snapStart = BenchClock.nanos()
        let writer = try SnapshotWriter(path: path, meta: SnapshotMeta(
            stateMachineKind: KVStateMachine.kind, stateMachineVersion: KVStateMachine.snapshotVersion,
            lastIndex: machine.appliedIndex, lastTerm: machine.appliedTerm))
        var sink = WriterSink(writer: writer)
        try machine.writeSnapshot(to: &sink)
        _ = try writer.finish()
        let snapSeconds = BenchClock.seconds(since: snapStart)
        var reopened = KVStateMachine()
        var source = ReaderSource(reader: try SnapshotReader(path: path))
        try reopened.restoreSnapshot(from: &source)
        guard reopened.appliedIndex == UInt64(n), reopened.store.revision == Int64(n) + 1 else {
            throw BenchFailure(description: "kv-put: reopened at index \(reopened.appliedIndex), revision \(reopened.store.revision)")
        }
        var distinct = 0
        for k in 0..<p.keys where last[k] != 0 {
            distinct += 1
            guard let kv = reopened.store.get(key(UInt64(k))),
                  kv.value == StandardPayload.make(index: last[k], size: p.entryBytes),
                  kv.modRevision == Int64(last[k]) + 1 else {
                throw BenchFailure(description: "kv-put: key \(k) does not hold the payload of operation \(last[k])")
            }
        }
        guard reopened.store.liveKeyCount == distinct else { throw BenchFailure(description: "kv-put: key count") }
        return BenchResult(
            workload: "kv-put", entries: n, entryBytes: p.entryBytes, batch: p.batch, seconds: seconds,
            note: "decode InternalRaftRequest + apply per entry into MetaKV (in memory, full history kept); durability is MetaEngine's log: snapshot_s is the untimed snapshot write (fsync) used to reopen and verify",
            extra: [("keys", Double(p.keys)), ("distinct_keys", Double(distinct)), ("backend_commits", 0),
                    ("cpu_ops_per_s", Double(n) / cpu),
                    ("snapshot_s", snapSeconds), ("rss_mb_per_million_ops", Double(rss) / 1_048_576 / Double(n) * 1_000_000)]
                + (MallocCounter.patchedSlots > 0 ? [("mallocs_per_op", Double(mallocs) / Double(n))] : []))
    }

    /// K keys, key number k holding the payload of k.
    static func load(_ p: Params) -> KVStateMachine {
        var m = KVStateMachine()
        for k in 0..<p.keys {
            _ = m.applyRequest(.put(PutRequest(key: key(UInt64(k)), value: StandardPayload.make(index: UInt64(k), size: p.entryBytes))),
                               encodedSize: 0)
        }
        return m
    }

    static func get(_ p: Params) throws -> BenchResult {
        let rss0 = LogSizeWorkloads.anonymousBytes()
        let m = load(p)
        let rss = LogSizeWorkloads.anonymousBytes() - rss0
        var g = SplitMix64(state: 42)
        var request = RangeRequest(key: [])
        var bad = -1
        let cpu0 = cpuSeconds()
        let start = BenchClock.nanos()
        for _ in 0..<p.reads {
            let k = g.next() % UInt64(p.keys)
            writeKey(k, into: &request.key)
            guard case .success(let r) = m.range(request), r.kvs.count == 1, r.kvs[0].key == request.key else { bad = Int(k); break }
            // Byte for byte against the payload of k, generated as it is compared (no expected copy built).
            let value = r.kvs[0].value
            guard value.count == p.entryBytes, value.withUnsafeBytes({ StandardPayload.matches(index: k, bytes: $0) }) else {
                bad = Int(k); break
            }
        }
        let seconds = BenchClock.seconds(since: start)
        let cpu = cpuSeconds() - cpu0
        if bad >= 0 { throw BenchFailure(description: "kv-get: key \(bad) read back wrong") }
        return BenchResult(
            workload: "kv-get", entries: p.reads, entryBytes: p.entryBytes, batch: 1, seconds: seconds,
            note: "KVStateMachine.range of one key per read (applied state, values shared, not copied); every value verified; store loaded untimed",
            extra: [("keys", Double(p.keys)), ("cpu_ops_per_s", Double(p.reads) / cpu), ("rss_mb_per_million_keys", Double(rss) / 1_048_576 / Double(p.keys) * 1_000_000)])
    }

    static func range(_ p: Params) throws -> BenchResult {
        let span = 100
        guard p.keys > span else { throw BenchFailure(description: "kv-range needs --keys > \(span)") }
        let ranges = max(p.reads / 10, 1)
        let m = load(p)
        var g = SplitMix64(state: 42)
        var request = RangeRequest(key: [], rangeEnd: [], limit: Int64(span))
        var scratch = [UInt8](repeating: 0, count: p.entryBytes)
        var bad: String?
        let cpu0 = cpuSeconds()
        let start = BenchClock.nanos()
        for _ in 0..<ranges {
            let a = g.next() % UInt64(p.keys - span)
            request.key = key(a)
            request.rangeEnd = key(a + UInt64(span))
            guard case .success(let r) = m.range(request), r.kvs.count == span, r.count == Int64(span),
                  r.kvs[0].key == request.key, r.kvs[span - 1].key == key(a + UInt64(span - 1)) else {
                bad = "range from key \(a): wrong keys or count"; break
            }
            scratch.withUnsafeMutableBytes { StandardPayload.fill(index: a, into: $0) }
            if r.kvs[0].value != scratch { bad = "range from key \(a): first value"; break }
        }
        let seconds = BenchClock.seconds(since: start)
        let cpu = cpuSeconds() - cpu0
        if let bad { throw BenchFailure(description: "kv-range: \(bad)") }
        var result = BenchResult(
            workload: "kv-range", entries: ranges, entryBytes: p.entryBytes, batch: 1, seconds: seconds,
            note: "KVStateMachine.range [a, a+100) limit 100 per read; count, first/last key and first value verified; mib_per_s counts the 100 values; store loaded untimed",
            extra: [("keys", Double(p.keys)), ("keys_per_range", Double(span)),
                    ("keys_per_s", Double(ranges * span) / seconds), ("cpu_keys_per_s", Double(ranges * span) / cpu)])
        result.bytesPerOp = span * p.entryBytes
        return result
    }

    /// kv-cow: the pause of the first write after a copy of the machine (what apply pays when MetaEngine
    /// snapshots a frozen copy): K keys (default 100000, `--keys`) loaded, then 1,000 times: copy, one put
    /// of an existing key and one of a new key, each timed; p50/p99/max in microseconds.
    static func cowPause(_ p: Params) throws -> BenchResult {
        var m = load(p)
        var existing: [Double] = [], fresh: [Double] = []
        var frozen: [KVStateMachine] = []
        for i in 0..<1000 {
            frozen.append(m)  // keep the copy alive, as a snapshot in progress would
            if frozen.count > 2 { frozen.removeFirst() }
            var t = BenchClock.nanos()
            _ = m.applyRequest(.put(PutRequest(key: key(UInt64(i * 97 % p.keys)), value: [1, 2, 3])), encodedSize: 0)
            existing.append(Double(BenchClock.nanos() - t) / 1000)
            frozen.append(m)
            if frozen.count > 2 { frozen.removeFirst() }
            t = BenchClock.nanos()
            _ = m.applyRequest(.put(PutRequest(key: Array("new/\(i)".utf8), value: [1])), encodedSize: 0)
            fresh.append(Double(BenchClock.nanos() - t) / 1000)
        }
        existing.sort(); fresh.sort()
        let q = { (a: [Double], f: Double) in a[min(a.count - 1, Int(Double(a.count) * f))] }
        return BenchResult(
            workload: "kv-cow", entries: 2000, entryBytes: 0, batch: 1, seconds: (existing + fresh).reduce(0, +) / 1e6,
            note: "first put after copying a \(p.keys)-key machine (copy kept alive): existing key / new key, microseconds",
            extra: [("existing_p50_us", q(existing, 0.5)), ("existing_p99_us", q(existing, 0.99)), ("existing_max_us", existing.last ?? 0),
                    ("new_p50_us", q(fresh, 0.5)), ("new_p99_us", q(fresh, 0.99)), ("new_max_us", fresh.last ?? 0)])
    }
}

/// SnapshotWriter as a SnapshotSink.
struct WriterSink: SnapshotSink {
    let writer: SnapshotWriter
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
}

/// SnapshotReader as a SnapshotSource.
struct ReaderSource: SnapshotSource {
    let reader: SnapshotReader
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.read(into: buffer) }
}
