import XCTest

@testable import MetaInflux
import MetaFSM

/// Exact bytes and exact errors of the hand-written protobuf codec.
final class WireCodecTests: XCTestCase {
    func testEmptyStateIsInfluxDBsEncoding() {
        // Term, Index, ClusterID, MaxNodeID, MaxShardGroupID, MaxShardID: all required, all written as 0.
        XCTAssertEqual(InfluxData().metaDBBytes(), [0x08, 0, 0x10, 0, 0x18, 0, 0x38, 0, 0x40, 0, 0x48, 0])
    }

    func testNegativeIntsAreTenByteVarints() {
        var u = UserInfo(name: "a", hash: "h", admin: true)
        u.setPrivilege(-1, on: "db")
        var d = InfluxData()
        d.users = [u]
        let bytes = d.metaDBBytes()
        // UserPrivilege { Database "db", Privilege -1 } = 0a 02 64 62 10 ff*9 01
        let priv: [UInt8] = [0x22, 15, 0x0a, 2, 0x64, 0x62, 0x10] + [UInt8](repeating: 0xff, count: 9) + [0x01]
        XCTAssertNotNil(bytes.firstRange(of: priv))
        XCTAssertEqual(try InfluxData(metaDB: bytes), d)
    }

    func testLongNestedMessagesGetMultiByteLengths() throws {
        var d = InfluxData()
        var db = DatabaseInfo(name: String(repeating: "x", count: 300), defaultRetentionPolicy: "")
        db.continuousQueries = [ContinuousQueryInfo(name: "q", query: String(repeating: "y", count: 20_000))]
        d.databases = [db]
        let bytes = d.metaDBBytes()
        XCTAssertEqual(try InfluxData(metaDB: bytes), d)
        // Databases field tag 0x2a, then a 2-byte length (300 + 20000 + overhead > 16383 needs 3 bytes).
        let i = try XCTUnwrap(bytes.firstIndex(of: 0x2a))
        XCTAssertEqual(bytes[i + 1] & 0x80, 0x80)
        XCTAssertEqual(bytes[i + 2] & 0x80, 0x80)
        XCTAssertEqual(bytes[i + 3] & 0x80, 0)
    }

    func testMissingRequiredFieldIsNamed() {
        // Data with only Term and Index.
        XCTAssertThrowsError(try InfluxData(metaDB: [0x08, 1, 0x10, 2])) { e in
            XCTAssertEqual(e as? MetaFSMError, .missingRequiredField(message: "Data", field: "ClusterID", offset: 0))
        }
        // A DatabaseInfo without DefaultRetentionPolicy (starts at byte 14, inside the Databases field).
        let base: [UInt8] = [0x08, 0, 0x10, 0, 0x18, 0, 0x38, 0, 0x40, 0, 0x48, 0]
        XCTAssertThrowsError(try InfluxData(metaDB: base + [0x2a, 3, 0x0a, 1, 0x61])) { e in
            XCTAssertEqual(
                e as? MetaFSMError, .missingRequiredField(message: "DatabaseInfo", field: "DefaultRetentionPolicy", offset: 14))
        }
    }

    func testWrongWireTypeAndTruncationAreErrorsWithOffsets() {
        XCTAssertThrowsError(try InfluxData(metaDB: [0x0a, 0])) { e in  // Term as length-delimited
            XCTAssertEqual(e as? MetaFSMError, .wrongWireType(message: "Data", field: 1, wireType: 2, offset: 0))
        }
        XCTAssertThrowsError(try InfluxData(metaDB: [0x08, 0x80])) { e in
            XCTAssertEqual(
                e as? MetaFSMError,
                .malformed(message: "Data", offset: 1, reason: "varint runs past the end of the message"))
        }
        XCTAssertThrowsError(try InfluxData(metaDB: [0x2a, 5, 0x0a])) { e in
            XCTAssertEqual(
                e as? MetaFSMError,
                .malformed(message: "Data", offset: 1, reason: "length 5 runs past the end of the message (1 bytes left)"))
        }
    }

    /// Random and mutated command payloads through the whole apply path: never a trap, always a result,
    /// Term/Index always stamped.
    func testRandomPayloadsNeverTrapTheStateMachine() throws {
        var rng = SplitMix(seed: 99)
        var m = InfluxStateMachine()
        let valid = try Fixtures.records(try Fixtures.bytes(Fixtures.root.appendingPathComponent("influxdb/case-029.commands")))
        var decoded = 0
        for i in 0..<20_000 {
            var p: [UInt8]
            if i % 2 == 0, let base = valid.randomElement(using: &rng) {
                p = base
                for _ in 0..<(1 + Int(rng.next() % 3)) where !p.isEmpty {
                    p[Int(rng.next() % UInt64(p.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            } else {
                p = (0..<Int(rng.next() % 48)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let r = p.withUnsafeBytes { m.apply(index: UInt64(i + 1), term: 9, payload: $0) }
            if case .undecodable = r {} else { decoded += 1 }
            XCTAssertEqual(m.appliedIndex, UInt64(i + 1))
        }
        XCTAssertGreaterThan(decoded, 1000)
        XCTAssertEqual(try InfluxData(metaDB: m.store.data.metaDBBytes()), m.store.data)
    }

    func testDeeplyNestedGroupsAreRefusedNotRecursedInto() {
        // 100,000 start-group tags of field 15 (0x7b): would overflow the stack if followed blindly.
        let hostile = InfluxData().metaDBBytes() + [UInt8](repeating: 0x7b, count: 100_000)
        XCTAssertThrowsError(try InfluxData(metaDB: hostile)) { e in
            XCTAssertEqual(
                e as? MetaFSMError, .malformed(message: "Data", offset: 113, reason: "groups nested more than 100 deep"))
        }
    }

    func testUnknownFieldsAreKeptAndWrittenBack() throws {
        var bytes = InfluxData().metaDBBytes()
        bytes += [0xa0, 0x06, 0x07]  // field 100, varint 7
        bytes += [0xaa, 0x06, 0x02, 0x68, 0x69]  // field 101, "hi"
        let d = try InfluxData(metaDB: bytes)
        XCTAssertEqual(d.unknownFields.bytes, [0xa0, 0x06, 0x07, 0xaa, 0x06, 0x02, 0x68, 0x69])
        XCTAssertEqual(d.metaDBBytes(), bytes)
    }

    func testOwnerIDsWinAndPackedFormIsAccepted() throws {
        // ShardInfo { ID 5, OwnerIDs packed [1, 2], Owners [{NodeID 9}] } inside a group inside a policy.
        let shard: [UInt8] = [0x08, 5, 0x12, 2, 1, 2, 0x1a, 2, 0x08, 9]
        var w = WireWriter()
        w.uint64(1, 0); w.uint64(2, 0); w.uint64(3, 0)
        w.message(5) { db in
            db.string(1, "db"); db.string(2, "rp")
            db.message(3) { rp in
                rp.string(1, "rp"); rp.int64(2, 0); rp.int64(3, 1); rp.uint32(4, 1)
                rp.message(5) { g in
                    g.uint64(1, 1); g.int64(2, 0); g.int64(3, 1); g.int64(4, 0)
                    g.tag(5, 2); g.varint(UInt64(shard.count)); g.bytes += shard
                }
            }
        }
        w.uint64(7, 0); w.uint64(8, 1); w.uint64(9, 5)
        let d = try InfluxData(metaDB: w.bytes)
        XCTAssertEqual(d.databases[0].retentionPolicies[0].shardGroups[0].shards[0].owners, [1, 2])
    }

    func testDuplicatePrivilegesKeepTheLastAndSortByDatabase() throws {
        var w = WireWriter()
        w.uint64(1, 0); w.uint64(2, 0); w.uint64(3, 0)
        w.message(6) { u in
            u.string(1, "bob"); u.string(2, "h"); u.bool(3, false)
            for (db, p) in [("zeta", 1), ("alpha", 2), ("zeta", 3)] as [(String, Int32)] {
                u.message(4) { $0.string(1, db); $0.int32(2, p) }
            }
        }
        w.uint64(7, 0); w.uint64(8, 0); w.uint64(9, 0)
        let d = try InfluxData(metaDB: w.bytes)
        XCTAssertEqual(d.users[0].privileges, [UserPrivilege(database: "alpha", privilege: 2),
                                               UserPrivilege(database: "zeta", privilege: 3)])
    }

    func testCommandTypeMayFollowOrPrecedeThePayload() throws {
        let goOrder = InfluxCommand.dropDatabase(name: "db").encoded()
        XCTAssertEqual(goOrder, [0xc2, 0x06, 4, 0x0a, 2, 0x64, 0x62, 0x08, 4])
        let typeFirst: [UInt8] = [0x08, 4, 0xc2, 0x06, 4, 0x0a, 2, 0x64, 0x62]
        XCTAssertEqual(try InfluxCommand(decoding: typeFirst), .dropDatabase(name: "db"))
        // A payload split over two occurrences of the extension merges (later fields win).
        let split: [UInt8] = [0xc2, 0x06, 4, 0x0a, 2, 0x64, 0x62, 0xc2, 0x06, 3, 0x0a, 1, 0x78, 0x08, 4]
        XCTAssertEqual(try InfluxCommand(decoding: split), .dropDatabase(name: "x"))
    }

    func testCommandErrors() {
        XCTAssertThrowsError(try InfluxCommand(decoding: [0x08, 20])) { e in
            XCTAssertEqual(e as? MetaFSMError, .unknownCommandType(type: 20, offset: 0))
        }
        XCTAssertThrowsError(try InfluxCommand(decoding: [0x08, 4])) { e in
            XCTAssertEqual(e as? MetaFSMError, .missingPayload(type: 4, extensionField: 104))
        }
        XCTAssertThrowsError(try InfluxCommand(decoding: [0xc2, 0x06, 0, 0x08, 4])) { e in
            XCTAssertEqual(
                e as? MetaFSMError, .missingRequiredField(message: "DropDatabaseCommand", field: "Name", offset: 0))
        }
        XCTAssertThrowsError(try InfluxCommand(decoding: [0xc2, 0x06, 0])) { e in
            XCTAssertEqual(e as? MetaFSMError, .missingRequiredField(message: "Command", field: "type", offset: 0))
        }
    }

    func testEveryCommandTypeRoundTrips() throws {
        let rp = RetentionPolicyInfo(name: "rp", duration: 3_600_000_000_000, shardGroupDuration: 0, replicaN: 2)
        var data = InfluxData()
        data.clusterID = 7
        let all: [InfluxCommand] = [
            .createNode(host: "h:8088", rand: 9), .deleteNode(id: 2, force: true),
            .createDatabase(name: "d", retentionPolicy: nil), .createDatabase(name: "d", retentionPolicy: rp),
            .dropDatabase(name: "d"), .createRetentionPolicy(database: "d", retentionPolicy: rp),
            .dropRetentionPolicy(database: "d", name: "rp"), .setDefaultRetentionPolicy(database: "d", name: "rp"),
            .updateRetentionPolicy(database: "d", name: "rp", newName: "x", duration: -5, replicaN: 0),
            .updateRetentionPolicy(database: "d", name: "rp", newName: nil, duration: nil, replicaN: nil),
            .createShardGroup(database: "d", policy: "rp", timestamp: -1),
            .deleteShardGroup(database: "d", policy: "rp", shardGroupID: 3),
            .createContinuousQuery(database: "d", name: "c", query: "SELECT"), .dropContinuousQuery(database: "d", name: "c"),
            .createUser(name: "u", hash: "$2a$", admin: true), .dropUser(name: "u"), .updateUser(name: "u", hash: "h"),
            .setPrivilege(username: "u", database: "d", privilege: -1), .setData(data),
            .setAdminPrivilege(username: "u", admin: false), .updateNode(id: 1, host: "h"),
            .createSubscription(name: "s", database: "d", retentionPolicy: "rp", mode: "ALL", destinations: ["udp://a:1"]),
            .dropSubscription(name: "s", database: "d", retentionPolicy: "rp"), .removePeer(id: nil, addr: "a"),
            .removePeer(id: 4, addr: "a"), .createMetaNode(httpAddr: "a", tcpAddr: "b", rand: 1),
            .createDataNode(httpAddr: "a", tcpAddr: "b"), .updateDataNode(id: 1, host: "a", tcpHost: "b"),
            .deleteMetaNode(id: 1), .deleteDataNode(id: 1), .setMetaNode(httpAddr: "a", tcpAddr: "b", rand: 2),
            .dropShard(id: 11),
        ]
        XCTAssertEqual(Set(all.map(\.typeNumber)).count, 29)
        for c in all {
            XCTAssertEqual(try InfluxCommand(decoding: c.encoded()), c, c.typeName)
        }
        let stream = influxCommandStream(all)
        let decoded = try stream.withUnsafeBytes { raw in
            try influxCommandRecords(raw).map { try InfluxCommand(decoding: UnsafeRawBufferPointer(rebasing: raw[$0])) }
        }
        XCTAssertEqual(decoded, all)
    }

    /// Every prefix and many single-byte corruptions of every fixture file: decoding throws or succeeds,
    /// never traps, and whatever decodes re-encodes to something that decodes to the same value.
    func testTruncatedAndCorruptedInputNeverTraps() throws {
        var thrown = 0
        for c in Fixtures.cases() {
            let raw = try Fixtures.bytes(c.dataPB)
            let step = max(1, raw.count / 400)
            for cut in stride(from: 0, to: raw.count, by: step) {
                if (try? InfluxData(metaDB: Array(raw[0..<cut]))) == nil { thrown += 1 }
            }
            var rng = SplitMix(seed: UInt64(raw.count))
            for _ in 0..<200 where !raw.isEmpty {
                var bad = raw
                let i = Int(rng.next() % UInt64(raw.count))
                bad[i] ^= UInt8(truncatingIfNeeded: rng.next() | 1)
                if let d = try? InfluxData(metaDB: bad) {
                    XCTAssertEqual(try InfluxData(metaDB: d.metaDBBytes()), d)
                } else {
                    thrown += 1
                }
            }
            for rec in try Fixtures.records(try Fixtures.bytes(c.commands)).prefix(50) {
                for cut in 0..<rec.count { _ = try? InfluxCommand(decoding: Array(rec[0..<cut])) }
            }
        }
        XCTAssertGreaterThan(thrown, 1000)
        XCTAssertThrowsError(try [UInt8]([5, 0, 0, 0, 1]).withUnsafeBytes { try influxCommandRecords($0) }) { e in
            XCTAssertEqual(e as? MetaFSMError, .truncatedRecord(record: 1, offset: 0, needed: 9, available: 5))
        }
    }
}

/// The benchmark generator's splitmix64, reused as the tests' deterministic source.
typealias SplitMix = InfluxWorkloadGenerator.Generator

extension InfluxWorkloadGenerator.Generator: RandomNumberGenerator {}
