import XCTest

@testable import MetaFSM

/// The StateMachine seam: Term/Index per entry, clocks, snapshots.
final class StateMachineTests: XCTestCase {
    func apply(_ m: inout InfluxStateMachine, _ c: InfluxCommand, index: UInt64, term: UInt64) -> InfluxError? {
        c.encoded().withUnsafeBytes { m.apply(index: index, term: term, payload: $0) }
    }

    func testTermAndIndexAreStampedEvenOnRejection() {
        var m = InfluxStateMachine()
        XCTAssertEqual(apply(&m, .dropUser(name: "x"), index: 5, term: 3), .userNotFound)
        XCTAssertEqual(m.appliedIndex, 5)
        XCTAssertEqual(m.appliedTerm, 3)
        let garbage: [UInt8] = [0xff]
        let r = garbage.withUnsafeBytes { m.apply(index: 6, term: 3, payload: $0) }
        guard case .undecodable = r else { return XCTFail("expected undecodable, got \(String(describing: r))") }
        XCTAssertEqual(m.appliedIndex, 6)
        XCTAssertEqual(m.store.data.databases.count, 0)
    }

    func testConformanceClockIsBasePlusIndexSeconds() {
        var m = InfluxStateMachine()
        _ = apply(&m, .createDatabase(name: "db", retentionPolicy: nil), index: 1, term: 1)
        _ = apply(&m, .createShardGroup(database: "db", policy: "autogen", timestamp: 0), index: 2, term: 1)
        _ = apply(&m, .deleteShardGroup(database: "db", policy: "autogen", shardGroupID: 1), index: 3, term: 1)
        XCTAssertEqual(m.store.data.databases[0].retentionPolicies[0].shardGroups[0].deletedAt,
                       (1_577_836_800 + 3) * 1_000_000_000)
    }

    func testLeaderStampedClockComesFromThePayload() {
        var m = InfluxStateMachine(clock: .leaderStamped)
        for (i, c) in [InfluxCommand.createDatabase(name: "db", retentionPolicy: nil),
                       .createShardGroup(database: "db", policy: "autogen", timestamp: 0),
                       .deleteShardGroup(database: "db", policy: "autogen", shardGroupID: 1)].enumerated() {
            let r = InfluxStateMachine.envelope(command: c, nowNanos: 123_456).withUnsafeBytes {
                m.apply(index: UInt64(i + 1), term: 2, payload: $0)
            }
            XCTAssertNil(r)
        }
        XCTAssertEqual(m.store.data.databases[0].retentionPolicies[0].shardGroups[0].deletedAt, 123_456)
    }

    func testSnapshotRoundTripIsAMetaDBAndRestoresEverything() throws {
        var m = InfluxStateMachine()
        let cmds: [InfluxCommand] = [
            .createDatabase(name: "db", retentionPolicy: nil), .createUser(name: "u", hash: "h", admin: false),
            .setPrivilege(username: "u", database: "db", privilege: 2),
            .createShardGroup(database: "db", policy: "autogen", timestamp: 1_000),
        ]
        for (i, c) in cmds.enumerated() { XCTAssertNil(apply(&m, c, index: UInt64(i + 10), term: 4)) }
        var sink = ByteSnapshotSink()
        try m.writeSnapshot(to: &sink)
        XCTAssertEqual(sink.bytes, m.store.data.metaDBBytes())

        var restored = InfluxStateMachine()
        var source = ByteSnapshotSource(sink.bytes)
        try restored.restoreSnapshot(from: &source)
        XCTAssertEqual(restored.store.data, m.store.data)
        XCTAssertEqual(restored.appliedIndex, 13)
        XCTAssertEqual(restored.appliedTerm, 4)
        XCTAssertEqual(restored.store.user("u")?.privilege(on: "db"), 2)
        // Both continue identically.
        XCTAssertNil(apply(&m, .createShardGroup(database: "db", policy: "autogen", timestamp: 1 << 60), index: 14, term: 4))
        XCTAssertNil(apply(&restored, .createShardGroup(database: "db", policy: "autogen", timestamp: 1 << 60), index: 14, term: 4))
        XCTAssertEqual(restored.store.data.metaDBBytes(), m.store.data.metaDBBytes())

        // A damaged snapshot is refused and the state is kept.
        var bad = ByteSnapshotSource(Array(sink.bytes.dropLast(3)))
        XCTAssertThrowsError(try restored.restoreSnapshot(from: &bad))
        XCTAssertEqual(restored.store.data, m.store.data)
    }

    func testExpectJSONShape() {
        XCTAssertEqual(influxExpectJSON([]), "[\n]\n")
        XCTAssertEqual(influxExpectJSON([nil, .databaseNotFound("a<b")]),
                       "[\nnull,\n\"database not found: a\\u003cb\"\n]\n")
    }
}
