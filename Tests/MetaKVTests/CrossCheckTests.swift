import Foundation
import GeneratedProto
import MetaKV
import SwiftProtobuf
import XCTest

/// The hand-written codec against swift-protobuf code generated from Sources/GeneratedProto/etcd.proto, on
/// every record of the visible fixtures (etcd's own encodings).
final class CrossCheckTests: XCTestCase {
    func testEveryFixtureRecordDecodesLikeSwiftProtobufAndReencodesToEtcdsBytes() throws {
        var checked = 0
        for name in KVFixtures.names() {
            let stream = try KVFixtures.bytes(KVFixtures.root.appendingPathComponent(name + ".commands"))
            for (i, record) in try KVFixtures.records(stream).enumerated() {
                let ours = try InternalRaftRequest(decoding: record)
                let theirs = try Etcdserverpb_InternalRaftRequest(serializedBytes: record)
                XCTAssertEqual(ours, Convert.request(theirs), "\(name) record \(i + 1): decoded values differ")
                XCTAssertEqual(ours.encoded(), record, "\(name) record \(i + 1): re-encoding is not etcd's bytes")
                XCTAssertEqual(try Etcdserverpb_InternalRaftRequest(serializedBytes: ours.encoded()), theirs)
                checked += 1
            }
        }
        XCTAssertEqual(checked, 7946)
    }

    /// Field order, merging and presence rules that etcd's encoder never produces but proto3 allows.
    func testForeignEncodingsDecodeAsProtobufDoes() throws {
        var a = Etcdserverpb_InternalRaftRequest()
        a.put.key = Data("k".utf8)
        a.put.value = Data("v1".utf8)
        var b = Etcdserverpb_InternalRaftRequest()
        b.put.value = Data("v2".utf8)
        b.put.lease = 5
        b.header.id = 9
        // Two partial puts (and a header) in one message: the second put merges into the first.
        let joined = Array(try a.serializedBytes() as Data) + Array(try b.serializedBytes() as Data)
        let ours = try InternalRaftRequest(decoding: joined)
        let theirs = try Etcdserverpb_InternalRaftRequest(serializedBytes: joined)
        XCTAssertEqual(ours, Convert.request(theirs))
        XCTAssertEqual(ours.put, PutRequest(key: Array("k".utf8), value: Array("v2".utf8), lease: 5))
        XCTAssertEqual(ours.headerID, 9)

        // A present but empty range_end is kept (it means "no upper bound"), and re-encoded.
        var d = Etcdserverpb_InternalRaftRequest()
        d.deleteRange.key = Data("a".utf8)
        d.deleteRange.rangeEnd = Data()
        let dBytes = Array(try d.serializedBytes() as Data)
        let decoded = try InternalRaftRequest(decoding: dBytes)
        XCTAssertEqual(decoded.deleteRange?.rangeEnd, [])
        XCTAssertEqual(decoded.encoded(), dBytes)

        // A zero-valued oneof member is present (28 00) and survives the round trip.
        var c = Etcdserverpb_InternalRaftRequest()
        var cmp = Etcdserverpb_Compare()
        cmp.key = Data("x".utf8)
        cmp.target = .create
        cmp.createRevision = 0
        c.txn.compare = [cmp]
        let cBytes = Array(try c.serializedBytes() as Data)
        XCTAssertEqual(try InternalRaftRequest(decoding: cBytes).txn?.compare.first?.operand, .createRevision(0))
        XCTAssertEqual(try InternalRaftRequest(decoding: cBytes).encoded(), cBytes)
    }

    func testTruncatedAndBadInputThrowsWithTheOffset() throws {
        let put = InternalRaftRequest(.put(PutRequest(key: Array("key".utf8), value: Array("value".utf8))), headerID: 1)
        let bytes = put.encoded()
        // Cut inside the put's value: the length of the put message (byte 1) runs past the end.
        XCTAssertThrowsError(try InternalRaftRequest(decoding: Array(bytes.prefix(8)))) { e in
            XCTAssertEqual("\(e)", "malformed InternalRaftRequest at byte 1: length 12 runs past the end of the message (6 bytes left)")
        }
        // A put field with the varint wire type.
        XCTAssertThrowsError(try InternalRaftRequest(decoding: [0x20, 0x01])) { e in
            XCTAssertEqual("\(e)", "InternalRaftRequest at byte 0: field 4 has wire type 0, which its declaration does not allow")
        }
        var m = KVStateMachine()
        let r = [UInt8]([0x22, 0x05, 0x0a]).withUnsafeBytes { m.apply(index: 1, term: 1, payload: $0) }
        XCTAssertEqual(KVJSON.line(r), "{\"error\":\"metakv: undecodable InternalRaftRequest: malformed InternalRaftRequest at byte 1: length 5 runs past the end of the message (1 bytes left)\"}")
        XCTAssertEqual(m.appliedIndex, 1)
        XCTAssertEqual(m.store.revision, 1)
    }
}

/// swift-protobuf values to MetaKV's.
enum Convert {
    static func b(_ d: Data) -> [UInt8] { Array(d) }

    static func request(_ m: Etcdserverpb_InternalRaftRequest) -> InternalRaftRequest {
        var r = InternalRaftRequest()
        r.hasHeader = m.hasHeader
        r.headerID = m.header.id
        r.username = m.header.username
        r.authRevision = m.header.authRevision
        r.id = m.id
        if m.hasRange { r.range = range(m.range) }
        if m.hasPut { r.put = put(m.put) }
        if m.hasDeleteRange { r.deleteRange = delete(m.deleteRange) }
        if m.hasTxn { r.txn = txn(m.txn) }
        if m.hasCompaction { r.compaction = CompactionRequest(revision: m.compaction.revision, physical: m.compaction.physical) }
        if m.hasLeaseGrant { r.leaseGrant = LeaseGrantRequest(ttl: m.leaseGrant.ttl, id: m.leaseGrant.id) }
        if m.hasLeaseRevoke { r.leaseRevoke = LeaseRevokeRequest(id: m.leaseRevoke.id) }
        return r
    }

    static func range(_ m: Etcdserverpb_RangeRequest) -> RangeRequest {
        var r = RangeRequest(key: b(m.key), rangeEnd: m.hasRangeEnd ? b(m.rangeEnd) : nil, limit: m.limit, revision: m.revision)
        r.sortOrder = Int32(m.sortOrder.rawValue)
        r.sortTarget = Int32(m.sortTarget.rawValue)
        r.serializable = m.serializable
        r.keysOnly = m.keysOnly
        r.countOnly = m.countOnly
        r.minModRevision = m.minModRevision
        r.maxModRevision = m.maxModRevision
        r.minCreateRevision = m.minCreateRevision
        r.maxCreateRevision = m.maxCreateRevision
        return r
    }

    static func put(_ m: Etcdserverpb_PutRequest) -> PutRequest {
        PutRequest(key: b(m.key), value: b(m.value), lease: m.lease, prevKV: m.prevKv, ignoreValue: m.ignoreValue,
                   ignoreLease: m.ignoreLease)
    }

    static func delete(_ m: Etcdserverpb_DeleteRangeRequest) -> DeleteRangeRequest {
        DeleteRangeRequest(key: b(m.key), rangeEnd: m.hasRangeEnd ? b(m.rangeEnd) : nil, prevKV: m.prevKv)
    }

    static func txn(_ m: Etcdserverpb_TxnRequest) -> TxnRequest {
        TxnRequest(compare: m.compare.map(compare), success: m.success.map(op), failure: m.failure.map(op))
    }

    static func compare(_ m: Etcdserverpb_Compare) -> Compare {
        let operand: Compare.Operand
        switch m.targetUnion {
        case nil: operand = .none
        case .version(let v)?: operand = .version(v)
        case .createRevision(let v)?: operand = .createRevision(v)
        case .modRevision(let v)?: operand = .modRevision(v)
        case .value(let v)?: operand = .value(b(v))
        case .lease(let v)?: operand = .lease(v)
        }
        return Compare(result: Int32(m.result.rawValue), target: Int32(m.target.rawValue), key: b(m.key),
                       operand: operand, rangeEnd: m.hasRangeEnd ? b(m.rangeEnd) : nil)
    }

    static func op(_ m: Etcdserverpb_RequestOp) -> RequestOp {
        switch m.request {
        case nil: return .none
        case .requestRange(let r)?: return .range(range(r))
        case .requestPut(let r)?: return .put(put(r))
        case .requestDeleteRange(let r)?: return .deleteRange(delete(r))
        case .requestTxn(let r)?: return .txn(txn(r))
        }
    }
}
