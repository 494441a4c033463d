import MetaKV
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
}
