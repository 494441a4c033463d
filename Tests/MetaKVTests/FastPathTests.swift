@testable import MetaKV
import MetaSnapshot
import XCTest

/// The single-key read path and the sorted-table insert give the same answers as the general code.
final class FastPathTests: XCTestCase {
    /// A single-key Range (no range_end) answers exactly as the scan over `[key, key + "\0")`, which selects
    /// the same one key through the sorted table: every key the fixture ever had plus a missing one, at
    /// revisions from the compaction point to the current one, with keys_only, count_only and limit 1.
    func testSingleKeyRangeAnswersAsTheEquivalentIntervalScan() throws {
        let m = try KVFixtures.replay("realistic-01").machine
        let first = m.store.compactRevision, last = m.store.revision
        let step = Int(max(1, (last - first) / 40))
        let revisions = Array(stride(from: first, through: last, by: step)) + [last, 0]
        var keys = Set<[UInt8]>()
        for rev in revisions {
            for kv in try m.range(RangeRequest(key: [0], rangeEnd: [0], revision: rev)).get().kvs { keys.insert(kv.key) }
        }
        XCTAssertGreaterThan(keys.count, 10)
        keys.insert(k("no such key"))
        var hits = 0
        for key in keys.sorted(by: { $0.lexicographicallyPrecedes($1) }) {
            for rev in revisions {
                for variant in 0..<4 {
                    var single = RangeRequest(key: key, revision: rev)
                    var scan = RangeRequest(key: key, rangeEnd: key + [0], revision: rev)
                    switch variant {
                    case 1: single.keysOnly = true; scan.keysOnly = true
                    case 2: single.countOnly = true; scan.countOnly = true
                    case 3: single.limit = 1; scan.limit = 1
                    default: break
                    }
                    let a = try m.range(single).get(), b = try m.range(scan).get()
                    XCTAssertEqual(a, b, "key \(key) revision \(rev) variant \(variant)")
                    hits += Int(a.count)
                }
            }
        }
        XCTAssertGreaterThan(hits, 0)
    }

    /// Point lookups settle keys of up to 16 bytes from the inline prefix and longer ones from the key's
    /// bytes: keys that differ only past byte 16, only in length, or only by trailing zero bytes (which the
    /// zero-padded prefix cannot tell apart) each read back their own value, and near misses find nothing.
    func testPointLookupsTellApartKeysThatShareTheirFirstSixteenBytes() throws {
        let base = Array("0123456789abcdef".utf8)
        let keys: [[UInt8]] = [
            [0x61], [0x61, 0], [0x61, 0, 0], [0],  [0, 0],
            Array(base.prefix(15)), Array(base.prefix(15)) + [0], base, base + [0], base + [1], base + [0, 0],
            base + Array("-long-tail-1".utf8), base + Array("-long-tail-2".utf8), base + Array("-long-tail-10".utf8),
        ]
        var m = KVStateMachine()
        for (n, key) in keys.enumerated() {
            guard case .success = m.applyRequest(.put(PutRequest(key: key, value: [UInt8(n)])), encodedSize: 0) else {
                return XCTFail("put \(key)")
            }
        }
        XCTAssertEqual(m.store.liveKeyCount, keys.count)
        for (n, key) in keys.enumerated() {
            XCTAssertEqual(m.store.get(key)?.value, [UInt8(n)], "key \(key)")
            XCTAssertEqual(try m.range(RangeRequest(key: key)).get().kvs.map(\.value), [[UInt8(n)]], "key \(key)")
        }
        for missing: [UInt8] in [[0x62], [0x61, 1], Array(base.prefix(14)), base + [2], base + Array("-long-tail-3".utf8),
                                 base + Array("-long-tail-1".utf8) + [0]] {
            XCTAssertNil(m.store.get(missing), "key \(missing)")
        }
        // Overwrites find the same key (one live key each, version 2).
        guard case .success = m.applyRequest(.put(PutRequest(key: base + [0], value: [99])), encodedSize: 0) else {
            return XCTFail("overwrite")
        }
        XCTAssertEqual(m.store.liveKeyCount, keys.count)
        XCTAssertEqual(m.store.get(base + [0])?.version, 2)
        XCTAssertEqual(m.store.get(base)?.version, 1)

        // The hash mixes in the length, so the pairs above rarely meet in one bucket probe: check the
        // comparison the probe makes directly, for every pair (equal only to itself).
        let empty = KVVersion(modRevision: 1, createRevision: 1, version: 1, lease: 0, value: [])
        for a in keys {
            let stored = KeyVersions(key: a, latest: empty)
            for b in keys + [base + Array("-long-tail-1".utf8) + [0]] {
                let same = b.withUnsafeBytes { stored.hasKey($0, KeyPrefix($0)) }
                XCTAssertEqual(same, a == b, "stored \(a), looked up \(b)")
            }
        }
    }

    /// With max-scan-limit 0 a found single key is counted but cut, `more` set, as the general path does.
    func testSingleKeyRangeHonoursAZeroScanLimit() throws {
        var options = KVOptions()
        options.maxScanLimit = 0
        var m = KVStateMachine(options: options)
        m.entry(.put(PutRequest(key: k("a"), value: k("1"))))
        let r = try m.range(RangeRequest(key: k("a"))).get()
        XCTAssertEqual(r.kvs, [])
        XCTAssertEqual(r.more, true)
        XCTAssertEqual(r.count, 1)
        XCTAssertEqual(r, try m.range(RangeRequest(key: k("a"), rangeEnd: k("a") + [0])).get())
        let missing = try m.range(RangeRequest(key: k("b"))).get()
        XCTAssertEqual(missing.kvs, [])
        XCTAssertEqual(missing.more, false)
        XCTAssertEqual(missing.count, 0)
    }

    /// Keys put in a scrambled order (enough to split table chunks many times, inserting at the front,
    /// middle and end of chunks) come back from a full range in bytewise order with their own values.
    func testScrambledInsertsKeepTheTableSorted() throws {
        var m = KVStateMachine()
        let n = 3000
        let order = (1...n).map { ($0 * 1103) % 3001 }  // a permutation of 1...3000 (3001 is prime)
        XCTAssertEqual(Set(order).count, n)
        for i in order { m.entry(.put(PutRequest(key: k("key/\(i)"), value: k("v\(i)")))) }
        let all = try m.range(RangeRequest(key: [0], rangeEnd: [0])).get()
        let expected = order.map { k("key/\($0)") }.sorted(by: { $0.lexicographicallyPrecedes($1) })
        XCTAssertEqual(all.kvs.map(\.key), expected)
        XCTAssertEqual(all.kvs.map(\.value), expected.map { k("v" + String(decoding: $0.dropFirst(4), as: UTF8.self)) })
        XCTAssertEqual(all.count, Int64(n))
    }

    /// Every live index entry carries the hint of its key's latest value (the address a lookup prefetches)
    /// and every shard's size is mirrored in `capacities`: after new keys (shards grow many times),
    /// rewrites, deletes, a compaction that drops keys, and a snapshot restore.
    func testIndexEntriesCarryTheLatestValueHintAndShardSizes() throws {
        var m = KVStateMachine()
        func put(_ key: Int, _ value: [UInt8]) {
            guard case .success = m.applyRequest(.put(PutRequest(key: k("key/\(key)"), value: value)), encodedSize: 0) else {
                return XCTFail("put \(key)")
            }
        }
        for n in 0..<5000 { put(n, [UInt8(n & 0xFF), 1]) }
        for n in stride(from: 0, to: 5000, by: 3) { put(n, [UInt8(n & 0xFF), 2, 2]) }
        guard case .success = m.applyRequest(.deleteRange(DeleteRangeRequest(key: k("key/1"), rangeEnd: k("key/2"))),
                                              encodedSize: 0) else { return XCTFail("delete") }
        guard case .success = m.applyRequest(.compaction(CompactionRequest(revision: m.store.revision)), encodedSize: 0) else {
            return XCTFail("compact")
        }
        try checkHints(m.store, live: m.store.liveKeyCount)

        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        var restored = KVStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        try checkHints(restored.store, live: m.store.liveKeyCount)
    }

    private func checkHints(_ store: KVStore, live: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        var checked = 0
        for s in 0..<HashIndex.shardCount {
            let e = store.index.shards[s]
            XCTAssertEqual(Int(store.index.capacities[s]) * 2, e.count, "shard \(s) size", file: file, line: line)
            for i in stride(from: 0, to: e.count, by: 2) where e[i] != 0 && e[i] != HashIndex.deleted {
                let slot = UInt32(truncatingIfNeeded: e[i]) &- 1
                let latest = store.slab[slot].latest
                if latest.isTombstone { continue }
                XCTAssertEqual(e[i + 1], HashIndex.hint(latest.value), "key \(store.slab[slot].key)", file: file, line: line)
                XCTAssertNotEqual(e[i + 1], 0, file: file, line: line)
                checked += 1
            }
        }
        XCTAssertEqual(checked, live, file: file, line: line)
    }
}
