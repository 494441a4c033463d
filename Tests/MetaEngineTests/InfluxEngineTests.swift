import MetaEngine
import MetaInflux
import XCTest

/// The engine driving the InfluxDB meta store: results per entry, snapshot as a meta.db streamed into a
/// snapshot file, restore on reopen with the same state as a plain replay.
final class InfluxEngineTests: XCTestCase {
    func testInfluxCommandsThroughTheEngineMatchAPlainReplayAcrossSnapshotAndReopen() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        o.snapshotEveryEntries = 1500
        o.trailingEntries = 100
        let commands = InfluxWorkloadGenerator.stream(commands: 5000, seed: 7)
        var engine = try MetaEngine(directory: dir, stateMachine: InfluxStateMachine(), options: o)
        var plain = InfluxStateMachine()
        var rejected = 0
        for start in stride(from: 0, to: commands.count, by: 250) {
            var batch = EntryBatch()
            for c in commands[start..<min(start + 250, commands.count)] { batch.append(term: 1, payload: c.encoded()) }
            let range = try await engine.propose(batch)
            for (k, c) in commands[start..<min(start + 250, commands.count)].enumerated() {
                let expected = plain.apply(index: range.lowerBound + UInt64(k), term: 1, command: c,
                                           now: (1_577_836_800 + Int64(range.lowerBound) + Int64(k)) * 1_000_000_000)
                let got = try await engine.applied(range.lowerBound + UInt64(k)) ?? nil
                XCTAssertEqual(got, expected)
                if got != nil { rejected += 1 }
            }
        }
        XCTAssertGreaterThan(rejected, 0, "the stream includes commands InfluxDB rejects")
        let snapshot = try await engine.snapshot()
        XCTAssertEqual(snapshot.index, 5000)
        XCTAssertEqual(engine.read { $0.store.data.metaDBBytes() }, plain.store.data.metaDBBytes())
        engine.simulateCrash()
        engine = try MetaEngine(directory: dir, stateMachine: InfluxStateMachine(), options: o)
        XCTAssertEqual(engine.recovery.snapshot, snapshot)
        XCTAssertEqual(engine.read { $0.store.data.metaDBBytes() }, plain.store.data.metaDBBytes())
        XCTAssertEqual(engine.firstIndex, 4901)
        try engine.close()
    }
}
