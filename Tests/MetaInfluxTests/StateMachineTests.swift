import XCTest

@testable import MetaInflux
import MetaFSM
import MetaSnapshot

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

    func testSkipStampsTermAndIndexAndChangesNothingElse() throws {
        var m = InfluxStateMachine()
        XCTAssertNil(apply(&m, .createDatabase(name: "db", retentionPolicy: nil), index: 1, term: 1))
        let before = m.store.data.metaDBBytes()
        m.skip(index: 2, term: 7)
        XCTAssertEqual(m.appliedIndex, 2)
        XCTAssertEqual(m.appliedTerm, 7)
        var after = try InfluxData(metaDB: m.store.data.metaDBBytes())
        after.term = 1
        after.index = 1
        XCTAssertEqual(after.metaDBBytes(), before)
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

/// A second, unrelated conformer (a tiny key-value register), driven by the same generic code as the
/// InfluxDB machine: the seam is not InfluxDB-specific.
struct RegisterMachine: StateMachine, Equatable {
    static let kind = "test-register"
    static let snapshotVersion: UInt32 = 1
    var appliedIndex: UInt64 = 0
    var appliedTerm: UInt64 = 0
    var values: [UInt8: UInt8] = [:]

    /// Payload = key byte, value byte; anything else is refused (result false) but still stamped.
    mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> Bool {
        appliedIndex = index
        appliedTerm = term
        guard payload.count == 2 else { return false }
        values[payload[0]] = payload[1]
        return true
    }

    mutating func skip(index: UInt64, term: UInt64) {
        appliedIndex = index
        appliedTerm = term
    }

    func writeSnapshot(to sink: inout some SnapshotSink) throws {
        var b = withUnsafeBytes(of: appliedIndex.littleEndian) { Array($0) }
        b += withUnsafeBytes(of: appliedTerm.littleEndian) { Array($0) }
        for k in values.keys.sorted() { b += [k, values[k] ?? 0] }
        try b.withUnsafeBytes { try sink.write($0) }
    }

    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        let b = try source.readAll()
        guard b.count >= 16, (b.count - 16) % 2 == 0 else { throw MetaFSMError.snapshot(reason: "bad register snapshot") }
        appliedIndex = b[0..<8].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        appliedTerm = b[8..<16].reversed().reduce(0) { $0 << 8 | UInt64($1) }
        values = [:]
        for i in stride(from: 16, to: b.count, by: 2) { values[b[i]] = b[i + 1] }
    }
}

/// Applies `entries` from index 1, snapshots half-way, restores a fresh machine from it, applies the rest to
/// both, and returns both final snapshots (which must be equal for any deterministic machine).
func replayWithSnapshot<M: StateMachine>(_ make: () -> M, _ entries: [[UInt8]]) throws -> ([UInt8], [UInt8]) {
    var a = make()
    let half = entries.count / 2
    for (i, e) in entries[..<half].enumerated() { _ = e.withUnsafeBytes { a.apply(index: UInt64(i + 1), term: 1, payload: $0) } }
    var sink = ByteSnapshotSink()
    try a.writeSnapshot(to: &sink)
    var b = make()
    var source = ByteSnapshotSource(sink.bytes)
    try b.restoreSnapshot(from: &source)
    for (i, e) in entries[half...].enumerated() {
        _ = e.withUnsafeBytes { a.apply(index: UInt64(half + i + 1), term: 2, payload: $0) }
        _ = e.withUnsafeBytes { b.apply(index: UInt64(half + i + 1), term: 2, payload: $0) }
    }
    var sa = ByteSnapshotSink()
    var sb = ByteSnapshotSink()
    try a.writeSnapshot(to: &sa)
    try b.writeSnapshot(to: &sb)
    XCTAssertEqual(a.appliedIndex, UInt64(entries.count))
    XCTAssertEqual(b.appliedTerm, 2)
    return (sa.bytes, sb.bytes)
}

final class GenericSeamTests: XCTestCase {
    func testOneDriverForTwoKindsOfMachine() throws {
        let register = try replayWithSnapshot({ RegisterMachine() }, [[1, 2], [3, 4], [9], [1, 7]])
        XCTAssertEqual(register.0, register.1)
        let stream = try Fixtures.records(try Fixtures.bytes(Fixtures.root.appendingPathComponent("influxdb/meta-01.commands")))
        let influx = try replayWithSnapshot({ InfluxStateMachine() }, stream)
        XCTAssertEqual(influx.0, influx.1)
        // Same final state as the fixture, except Term: the second half ran in term 2.
        let want = try String(contentsOf: Fixtures.root.appendingPathComponent("influxdb/meta-01.db.json"), encoding: .utf8)
        XCTAssertEqual(try InfluxData(metaDB: influx.0).canonicalJSON(),
                       want.replacingOccurrences(of: "\"Term\": \"1\"", with: "\"Term\": \"2\""))
    }
}
