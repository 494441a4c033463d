import Foundation
import MetaFSM
import MetaKV
import MetaSnapshot
import XCTest

func k(_ s: String) -> [UInt8] { Array(s.utf8) }

extension KVStateMachine {
    /// Applies `request` as a log entry (encoded, next index, term 1).
    @discardableResult mutating func entry(_ request: KVRequest) -> KVResult {
        let bytes = InternalRaftRequest(request, headerID: appliedIndex + 1).encoded()
        return bytes.withUnsafeBytes { apply(index: appliedIndex + 1, term: 1, payload: $0) }
    }
}

/// Snapshot, copy-on-write, options, leases and reads of the machine beyond what the fixtures replay.
final class StateMachineTests: XCTestCase {
    /// A store with history, tombstones, a compaction and leases (the realistic-01 fixture).
    func fixtureMachine() throws -> KVStateMachine { try KVFixtures.replay("realistic-01").machine }

    func testSnapshotRestoresTheIdenticalStateIncludingHistoryLeasesAndCompaction() throws {
        let m = try fixtureMachine()
        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        var restored = KVStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        XCTAssertEqual(KVJSON.state(restored.store), try KVFixtures.expectedState("realistic-01"))
        XCTAssertEqual(restored.appliedIndex, 2000)
        XCTAssertEqual(restored.appliedTerm, 1)
        XCTAssertEqual(restored.store.compactRevision, m.store.compactRevision)
        // Every read at every revision from the compaction point on answers the same.
        for rev in m.store.compactRevision...m.store.revision {
            let r = RangeRequest(key: [0], rangeEnd: [0], revision: rev)
            XCTAssertEqual(try restored.range(r).get(), try m.range(r).get(), "revision \(rev)")
        }
        // Below the compaction point both refuse.
        let old = RangeRequest(key: [0], rangeEnd: [0], revision: m.store.compactRevision - 1)
        XCTAssertEqual(restored.range(old).failure, .compacted)
        // The same bytes again (deterministic encoding).
        var again = ByteSnapshotSink()
        try restored.writeSnapshot(to: &again)
        XCTAssertEqual(again.bytes, sink.bytes)
        // Applying the same command to both gives the same answer and state.
        var a = m, b = restored
        let put = KVRequest.put(PutRequest(key: k("/x"), value: k("1"), prevKV: true))
        XCTAssertEqual(a.entry(put), b.entry(put))
        XCTAssertEqual(KVJSON.state(a.store), KVJSON.state(b.store))
    }

    func testSnapshotStreamsInBoundedWrites() throws {
        var m = KVStateMachine()
        for i in 0..<20_000 { m.entry(.put(PutRequest(key: k("key/\(i)"), value: [UInt8](repeating: 7, count: 64)))) }
        struct CountingSink: SnapshotSink {
            var writes = 0, largest = 0, total = 0
            mutating func write(_ b: UnsafeRawBufferPointer) throws { writes += 1; largest = max(largest, b.count); total += b.count }
        }
        var sink = CountingSink()
        try m.writeSnapshot(to: &sink)
        XCTAssertGreaterThan(sink.total, 20_000 * 64)
        XCTAssertLessThanOrEqual(sink.largest, 64 * 1024 + 1024)
        XCTAssertGreaterThan(sink.writes, 20)
    }

    func testDamagedSnapshotIsRefusedWithTheOffsetAndLeavesTheStateAlone() throws {
        var m = KVStateMachine()
        m.entry(.put(PutRequest(key: k("a"), value: k("1"))))
        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        var target = KVStateMachine()
        target.entry(.put(PutRequest(key: k("keep"), value: k("me"))))
        var bad = sink.bytes
        bad[0] = UInt8(ascii: "X")
        var s1 = ByteSnapshotSource(bad)
        XCTAssertThrowsError(try target.restoreSnapshot(from: &s1)) { e in
            XCTAssertEqual(e as? MetaFSMError, .snapshot(reason: "MetaKV snapshot byte 0: not a MetaKV snapshot (magic MKV1 expected)"))
        }
        var s2 = ByteSnapshotSource(Array(sink.bytes.dropLast(3)))
        XCTAssertThrowsError(try target.restoreSnapshot(from: &s2)) { e in
            XCTAssertEqual(e as? MetaFSMError, .snapshot(reason: "MetaKV snapshot byte \(sink.bytes.count - 4): stream ends inside a 4-byte field"))
        }
        XCTAssertEqual(target.store.get(k("keep"))?.value, k("me"))
        XCTAssertNil(target.store.get(k("a")))
    }

    func testCopyIsFrozenWhileApplyContinues() throws {
        var m = try fixtureMachine()
        let frozen = m
        let before = KVJSON.state(frozen.store)
        for i in 0..<300 { m.entry(.put(PutRequest(key: k("/new/\(i)"), value: k("v")))) }
        m.entry(.deleteRange(DeleteRangeRequest(key: [0], rangeEnd: [0])))
        m.entry(.compaction(CompactionRequest(revision: m.store.revision)))
        XCTAssertEqual(KVJSON.state(frozen.store), before)
        XCTAssertEqual(m.store.liveKeyCount, 0)
        var sink = ByteSnapshotSink()
        try frozen.writeSnapshot(to: &sink)
        var restored = KVStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        XCTAssertEqual(KVJSON.state(restored.store), try KVFixtures.expectedState("realistic-01"))
    }

    func testLimitsAreEnforcedWithEtcdsErrors() {
        var options = KVOptions()
        options.maxTxnOps = 2
        options.maxRequestBytes = 100
        options.maxScanLimit = 3
        var m = KVStateMachine(options: options)
        let three = TxnRequest(success: [.put(PutRequest(key: k("a"))), .put(PutRequest(key: k("b"))), .put(PutRequest(key: k("c")))])
        XCTAssertEqual(KVJSON.line(m.entry(.txn(three))), "{\"error\":\"etcdserver: too many operations in txn request\"}")
        XCTAssertEqual(KVJSON.line(m.entry(.put(PutRequest(key: k("big"), value: [UInt8](repeating: 1, count: 101))))),
                       "{\"error\":\"etcdserver: request is too large\"}")
        for i in 0..<5 { m.entry(.put(PutRequest(key: k("s/\(i)"), value: k("\(i)")))) }
        let r = try? m.range(RangeRequest(key: k("s/"), rangeEnd: k("s0"))).get()
        XCTAssertEqual(r?.kvs.map(\.key), [k("s/0"), k("s/1"), k("s/2")])
        XCTAssertEqual(r?.more, true)
        XCTAssertEqual(r?.count, 5)
        XCTAssertEqual(m.store.revision, 6)
    }

    func testExpiredLeasesComeFromEntryCarriedTime() {
        var options = KVOptions()
        options.leaderStampedEntries = true
        var m = KVStateMachine(options: options)
        let second: Int64 = 1_000_000_000
        func stamped(_ r: KVRequest, at t: Int64) -> KVResult {
            let bytes = KVStateMachine.stamp(InternalRaftRequest(r), time: t)
            return bytes.withUnsafeBytes { m.apply(index: m.appliedIndex + 1, term: 1, payload: $0) }
        }
        _ = stamped(.leaseGrant(LeaseGrantRequest(ttl: 10, id: 1)), at: 100 * second)
        _ = stamped(.leaseGrant(LeaseGrantRequest(ttl: 1, id: 2)), at: 105 * second)  // raised to 2 s
        _ = stamped(.leaseGrant(LeaseGrantRequest(ttl: 30, id: -3)), at: 105 * second)
        XCTAssertEqual(m.expiredLeases(at: 106 * second), [])
        XCTAssertEqual(m.expiredLeases(at: 107 * second), [2])
        XCTAssertEqual(m.expiredLeases(at: 110 * second), [1, 2])
        XCTAssertEqual(m.expiredLeases(at: 135 * second), [-3, 1, 2])
        XCTAssertEqual(m.lastTime, 105 * second)
        let short = [UInt8](repeating: 0, count: 5).withUnsafeBytes { m.apply(index: 9, term: 1, payload: $0) }
        XCTAssertEqual(short.failure, .missingTimestamp(length: 5))
    }

    /// Compaction removes fully deleted keys from the sorted table, the hash index and the slab; their slots
    /// are reused by new keys, and every read path still agrees.
    func testCompactedKeysLeaveEveryIndexAndTheirSlotsAreReused() throws {
        var m = KVStateMachine()
        for i in 0..<3000 { m.entry(.put(PutRequest(key: k("k/\(i)"), value: k("\(i)")))) }
        m.entry(.deleteRange(DeleteRangeRequest(key: k("k/1"), rangeEnd: k("k/2"))))  // k/1, k/10.., k/100..
        let deleted = 1 + 10 + 100 + 1000
        m.entry(.compaction(CompactionRequest(revision: m.store.revision)))
        XCTAssertEqual(m.store.liveKeyCount, 3000 - deleted)
        for i in 0..<500 { m.entry(.put(PutRequest(key: k("n/\(i)"), value: k("new\(i)")))) }
        for i in [1, 10, 150, 1999, 2000, 2999] {
            XCTAssertEqual(m.store.get(k("k/\(i)"))?.value, String(i).hasPrefix("1") ? nil : k("\(i)"), "k/\(i)")
        }
        XCTAssertEqual(m.store.get(k("n/499"))?.value, k("new499"))
        XCTAssertEqual(m.store.get(k("n/499"))?.version, 1)
        XCTAssertEqual(m.store.count(key: k("k/"), rangeEnd: k("k0")), 3000 - deleted)
        XCTAssertEqual(m.store.count(key: k("n/"), rangeEnd: k("n0")), 500)
        // A deleted key comes back as a new generation.
        m.entry(.put(PutRequest(key: k("k/1"), value: k("again"))))
        XCTAssertEqual(m.store.get(k("k/1"))?.createRevision, m.store.revision)
        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        var restored = KVStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        XCTAssertEqual(KVJSON.state(restored.store), KVJSON.state(m.store))
        XCTAssertEqual(restored.store.get(k("n/0"))?.value, k("new0"))
    }

    func testSkipMovesOnlyTheAppliedIndex() {
        var m = KVStateMachine()
        m.entry(.put(PutRequest(key: k("a"), value: k("1"))))
        m.skip(index: 7, term: 3)
        XCTAssertEqual(m.appliedIndex, 7)
        XCTAssertEqual(m.appliedTerm, 3)
        XCTAssertEqual(m.store.revision, 2)
    }

    func testLeaseGrantWithIDZeroIsRefusedAsEtcdsLessorDoes() {
        var m = KVStateMachine()
        XCTAssertEqual(m.entry(.leaseGrant(LeaseGrantRequest(ttl: 5, id: 0))).failure, .leaseNotFound)
        XCTAssertTrue(m.store.leases.isEmpty)
    }

    func testUnsupportedEntryIsAnsweredNotApplied() {
        var m = KVStateMachine()
        var r = InternalRaftRequest()
        r.otherFields = [0x52, 0x00]  // alarm (field 10), empty
        let result = r.encoded().withUnsafeBytes { m.apply(index: 1, term: 1, payload: $0) }
        XCTAssertEqual(result.failure, .unsupported)
        XCTAssertEqual(m.store.revision, 1)
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e }; return nil }
}
