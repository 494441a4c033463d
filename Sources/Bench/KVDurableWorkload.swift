import Foundation
import MetaEngine
import MetaKV

extension KVWorkloads {
    /// kv-durable (../shared/peers' contract): a fresh MetaEngine over a ``KVStateMachine`` in `D`, single
    /// node (`commitOnDurable`, group commit). C clients take the next operation number `i` from a shared
    /// counter and propose etcd's log entry for put `i` (InternalRaftRequest{header{ID: i}, put{key k(i),
    /// payload of i}}); a put returns once it is durable and applied, and its latency is recorded.
    /// Timed: engine ready .. last put returned (the open is reported as `start_ms`). Untimed
    /// afterwards: a full range read of the applied state; every key holds the value of one of its puts,
    /// the key count matches, the revision is N + 1, no put was rejected.
    static func durable(directory: String, _ p: Params) throws -> BenchResult {
        let n = p.entries
        guard n > 0, p.clients > 0 else { throw BenchFailure(description: "kv-durable needs --entries and --clients > 0") }
        // Untimed: the N entries as etcd's log holds them, and which operations put each key.
        var payloads: [[UInt8]] = []
        payloads.reserveCapacity(n)
        var putsOfKey = [[Int]](repeating: [], count: p.keys)
        for i in 1...n {
            let k = keyNumber(UInt64(i), p.keys)
            let value = StandardPayload.make(index: UInt64(i), size: p.entryBytes)
            payloads.append(InternalRaftRequest(.put(PutRequest(key: key(k), value: value)), headerID: UInt64(i)).encoded())
            putsOfKey[Int(k)].append(i)
        }
        let dir = directory + "/kv-durable"
        try BenchDirectory.clear(dir)
        var o = EngineOptions()
        o.commitOnDurable = true
        let metrics = BenchMetrics()
        o.metricsFactory = metrics
        let opened = BenchClock.nanos()
        let engine = try MetaEngine(directory: dir, stateMachine: KVStateMachine(), options: o)
        let startMillis = Double(BenchClock.nanos() &- opened) / 1e6
        let rejected = RejectCounter()
        let sendable = payloads
        let (seconds, merged) = try EngineWorkloads.closedLoop(proposers: p.clients, commands: sendable.count) {
            var batch = EntryBatch(reservingBytes: 512)
            return { j in
                batch.removeAll(keepingCapacity: true)
                batch.append(term: 1, payload: sendable[j])
                let (_, result) = try await engine.proposeAndWait(batch)
                if case .failure? = result { rejected.add() }
            }
        }

        // Untimed: a full range read, every key checked against its puts.
        let failure: String? = engine.read { m in
            guard m.store.revision == Int64(n) + 1 else { return "revision \(m.store.revision), expected \(n + 1)" }
            guard case .success(let all) = m.range(RangeRequest(key: [0], rangeEnd: [0])) else { return "full range refused" }
            let expected = putsOfKey.reduce(0) { $0 + ($1.isEmpty ? 0 : 1) }
            guard all.kvs.count == expected, all.count == Int64(expected) else {
                return "\(all.kvs.count) keys (count \(all.count)), expected \(expected)"
            }
            for kv in all.kvs {
                guard let k = Self.parseKeyNumber(kv.key), k < p.keys,
                      putsOfKey[k].contains(where: { StandardPayload.make(index: UInt64($0), size: p.entryBytes) == kv.value }) else {
                    return "key \(String(decoding: kv.key, as: UTF8.self)) holds none of its puts' values"
                }
            }
            return nil
        }
        try engine.close()
        if let failure { throw BenchFailure(description: "kv-durable: \(failure)") }
        guard rejected.value == 0 else { throw BenchFailure(description: "kv-durable: \(rejected.value) puts rejected") }
        return BenchResult(
            workload: "kv-durable", entries: n, entryBytes: p.entryBytes, batch: 1, seconds: seconds,
            note: "MetaEngine (group commit, commitOnDurable) + KVStateMachine; \(p.clients) clients, each put durable and applied before it returns; full range verified untimed; dir \(dir)",
            extra: merged.extras + [("clients", Double(p.clients)), ("keys", Double(p.keys)), ("start_ms", (startMillis * 10).rounded() / 10)]
                + metrics.engineBreakdown(seconds: seconds))
    }

    /// The number in `key/%012d`, or nil.
    static func parseKeyNumber(_ key: [UInt8]) -> Int? {
        guard key.count == 16, key.starts(with: Array("key/".utf8)) else { return nil }
        var n = 0
        for c in key[4...] {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else { return nil }
            n = n * 10 + Int(c - UInt8(ascii: "0"))
        }
        return n
    }
}

/// Counts puts the machine rejected (shared by the clients).
final class RejectCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
