import MetaKV
import XCTest

/// Every seed helper, applied through the machine as entries.
final class HelperTests: XCTestCase {
    func txn(_ m: inout KVStateMachine, _ t: TxnRequest) -> TxnResponse? {
        if case .success(.txn(let r)) = m.entry(.txn(t)) { return r }
        return nil
    }

    func testPrefixEnd() {
        XCTAssertEqual(KVKeys.prefixEnd(k("/a/")), k("/a0"))
        XCTAssertEqual(KVKeys.prefixEnd([0x61, 0xff, 0xff]), [0x62])
        XCTAssertEqual(KVKeys.prefixEnd([0xff, 0xff]), [0])
        XCTAssertEqual(KVKeys.prefixEnd([]), [0])
    }

    func testZookeeperAddSetDeleteGetWithVersionCAS() throws {
        var m = KVStateMachine()
        let node = k("/zk/node")
        XCTAssertEqual(txn(&m, KVZooKeeper.add(node, k("a")))?.succeeded, true)
        // A second add fails and shows the existing node.
        let again = try XCTUnwrap(txn(&m, KVZooKeeper.add(node, k("b"))))
        XCTAssertFalse(again.succeeded)
        guard case .range(let existing) = again.responses.first else { return XCTFail("no range") }
        XCTAssertEqual(existing.kvs.first?.value, k("a"))
        XCTAssertEqual(existing.kvs.first?.version, 1)
        // Set with the right version succeeds, with a stale one fails.
        XCTAssertEqual(txn(&m, KVZooKeeper.set(node, k("c"), expectedVersion: 1))?.succeeded, true)
        XCTAssertEqual(txn(&m, KVZooKeeper.set(node, k("d"), expectedVersion: 1))?.succeeded, false)
        XCTAssertEqual(m.store.get(node)?.value, k("c"))
        XCTAssertEqual(m.store.get(node)?.version, 2)
        // Unconditional set of a missing node fails (it must exist).
        XCTAssertEqual(txn(&m, KVZooKeeper.set(k("/zk/missing"), k("x")))?.succeeded, false)
        XCTAssertNil(m.store.get(k("/zk/missing")))
        // Get.
        XCTAssertEqual(try m.range(KVZooKeeper.get(node)).get().kvs.map(\.value), [k("c")])
        // Delete with a stale version fails, with the current one removes the node.
        XCTAssertEqual(txn(&m, KVZooKeeper.delete(node, expectedVersion: 1))?.succeeded, false)
        let del = try XCTUnwrap(txn(&m, KVZooKeeper.delete(node, expectedVersion: 2)))
        XCTAssertTrue(del.succeeded)
        guard case .deleteRange(let d) = del.responses.first else { return XCTFail("no delete") }
        XCTAssertEqual(d.deleted, 1)
        XCTAssertNil(m.store.get(node))
        XCTAssertEqual(m.store.revision, 4)
    }

    func testIDAllocatorHandsOutDisjointBlocksAndRefusesAStaleRead() throws {
        var m = KVStateMachine()
        let alloc = KVIDAllocator(key: k("/ceresmeta/alloc_id"), step: 100)
        var blocks: [Range<UInt64>] = []
        for _ in 0..<3 {
            let current = m.store.get(alloc.key)
            let t = try XCTUnwrap(alloc.reserve(after: current))
            XCTAssertEqual(txn(&m, t)?.succeeded, true)
            blocks.append(alloc.block(after: current))
        }
        XCTAssertEqual(blocks, [0..<100, 100..<200, 200..<300])
        XCTAssertEqual(m.store.get(alloc.key)?.value, k("300"))
        // Two allocators read the same counter; only the first reservation wins.
        let read = m.store.get(alloc.key)
        XCTAssertEqual(txn(&m, try XCTUnwrap(alloc.reserve(after: read)))?.succeeded, true)
        XCTAssertEqual(txn(&m, try XCTUnwrap(alloc.reserve(after: read)))?.succeeded, false)
        XCTAssertEqual(m.store.get(alloc.key)?.value, k("400"))
        // "999" -> "1099": the equality compare is bytewise, never numeric.
        let nines = KVIDAllocator(key: k("/c"), step: 100)
        _ = m.entry(.put(PutRequest(key: k("/c"), value: k("999"))))
        XCTAssertEqual(txn(&m, try XCTUnwrap(nines.reserve(after: m.store.get(k("/c")))))?.succeeded, true)
        XCTAssertEqual(m.store.get(k("/c"))?.value, k("1099"))
        XCTAssertNil(KVIDAllocator(key: k("/c"), step: UInt64.max).reserve(after: m.store.get(k("/c"))))
    }

    func testInstanceStatusLivesAndDiesWithItsLease() throws {
        var options = KVOptions()
        options.leaderStampedEntries = true
        var m = KVStateMachine(options: options)
        let second: Int64 = 1_000_000_000
        func at(_ t: Int64, _ r: KVRequest) -> KVResult {
            let bytes = KVStateMachine.stamp(InternalRaftRequest(r), time: t * second)
            return bytes.withUnsafeBytes { m.apply(index: m.appliedIndex + 1, term: 1, payload: $0) }
        }
        let key = k("/registry/instances/i-1")
        for r in KVInstanceStatus.register(key, status: k("up"), lease: 42, ttl: 10) {
            if case .failure(let e) = at(100, r) { XCTFail("\(e)") }
        }
        _ = at(103, KVInstanceStatus.update(key, status: k("busy")))
        XCTAssertEqual(m.store.get(key)?.value, k("busy"))
        XCTAssertEqual(m.store.get(key)?.lease, 42)
        XCTAssertEqual(m.expiredLeases(at: 109 * second), [])
        XCTAssertEqual(m.expiredLeases(at: 110 * second), [42])
        for id in m.expiredLeases(at: 110 * second) { _ = at(110, .leaseRevoke(LeaseRevokeRequest(id: id))) }
        XCTAssertNil(m.store.get(key))
        XCTAssertEqual(KVJSON.line(at(111, KVInstanceStatus.update(key, status: k("late")))),
                       "{\"error\":\"etcdserver: key not found\"}")
        XCTAssertEqual(KVJSON.line(at(112, KVInstanceStatus.deregister(lease: 42))),
                       "{\"error\":\"etcdserver: requested lease not found\"}")
    }

    func testHashFieldsUnderAPrefix() throws {
        var m = KVStateMachine()
        let h = KVHash(name: k("/gometa/h"))
        m.entry(.put(h.set(k("b"), k("2"))))
        m.entry(.put(h.set(k("a"), k("1"))))
        m.entry(.put(PutRequest(key: k("/gometa/h0"), value: k("outside"))))
        m.entry(.put(PutRequest(key: k("/gometa/hx"), value: k("outside"))))
        XCTAssertEqual(try m.range(h.get(k("a"))).get().kvs.map(\.value), [k("1")])
        let all = h.fields(try m.range(h.getAll()).get())
        XCTAssertEqual(all.map(\.field), [k("a"), k("b")])
        XCTAssertEqual(all.map(\.value), [k("1"), k("2")])
        m.entry(.deleteRange(h.delete(k("a"))))
        XCTAssertEqual(h.fields(try m.range(h.getAll()).get()).map(\.field), [k("b")])
        m.entry(.deleteRange(h.deleteAll()))
        XCTAssertEqual(try m.range(h.getAll()).get().count, 0)
        XCTAssertEqual(m.store.get(k("/gometa/h0"))?.value, k("outside"))
    }

    func testAutoCompactionRevisionMode() {
        var c = KVAutoCompactor(mode: .revision(retain: 10))
        let minute: Int64 = 60_000_000_000
        c.observe(revision: 5, time: 0)
        XCTAssertNil(c.proposal(now: 0))  // 5 - 10 < 1
        c.observe(revision: 50, time: minute)
        XCTAssertEqual(c.proposal(now: minute), CompactionRequest(revision: 40))
        c.observe(revision: 60, time: 2 * minute)
        XCTAssertNil(c.proposal(now: 2 * minute))  // within 5 minutes of the last
        XCTAssertEqual(c.proposal(now: 6 * minute), CompactionRequest(revision: 50))
        // The proposal applies: history before 50 goes.
        var m = KVStateMachine()
        for i in 0..<60 { m.entry(.put(PutRequest(key: k("k"), value: k("\(i)")))) }
        if case .failure(let e) = m.entry(.compaction(CompactionRequest(revision: 50))) { XCTFail("\(e)") }
        XCTAssertEqual(m.range(RangeRequest(key: k("k"), revision: 49)).failure, .compacted)
        XCTAssertEqual(try m.range(RangeRequest(key: k("k"), revision: 50)).get().kvs.first?.value, k("48"))
    }

    func testAutoCompactionPeriodicMode() {
        let hour: Int64 = 3_600_000_000_000
        var c = KVAutoCompactor(mode: .periodic(retentionNanos: hour))
        XCTAssertEqual(c.checkInterval, hour / 10)
        for step in 0...10 { c.observe(revision: Int64(100 + step * 10), time: Int64(step) * hour / 10) }
        // At 1 h: the revision seen at time 0 (100) is one retention old.
        XCTAssertEqual(c.proposal(now: hour), CompactionRequest(revision: 100))
        XCTAssertNil(c.proposal(now: hour + hour / 20))
        XCTAssertEqual(c.proposal(now: hour + hour / 10), CompactionRequest(revision: 110))
    }
}
