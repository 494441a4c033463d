import Foundation
import MetaEngine
import MetaInflux
import XCTest

/// Real crashes of an engine: `metactl engine load` (an InfluxDB-meta engine under 8 proposers, automatic
/// snapshots) is SIGKILLed at random moments. After reopening, every acknowledged entry is in the log with
/// the command that was proposed, and the applied state equals a plain replay of the log.
final class EngineCrashTests: XCTestCase {
    static let rounds = 10

    /// Command k of `metactl engine load` (its documented sequence).
    static func command(_ k: UInt64) -> MetaInflux.InfluxCommand {
        switch k % 3 {
        case 0: return .createDatabase(name: "db\(k % 40)", retentionPolicy: nil)
        case 1: return .createUser(name: "user\(k % 30)", hash: "$2a$10$\(k)", admin: false)
        default: return .dropDatabase(name: "db\((k / 3) % 40)")
        }
    }

    func testSIGKILLUnderLoadKeepsEveryAcknowledgedEntryAndTheStateIsTheLogsReplay() throws {
        let seed = UInt64.random(in: 0 ... .max)
        var random = SplitMix64(state: seed)
        print("EngineCrashTests seed \(seed)")
        let scratch = try ScratchDirectory("engine-crash")
        defer { scratch.remove() }
        let dir = scratch.child("engine")
        var lastIndex: UInt64 = 0
        var totalAcked = 0
        var roundsWithSnapshot = 0
        for number in 0..<Self.rounds {
            let snapshotEvery = [300, 1000, 0][number % 3]
            let delay = Double(random.next() % 300) / 1000
            let context = "seed \(seed) round \(number) snapshotEvery \(snapshotEvery) delay \(delay)"
            let child = try Metactl.start(["engine", "load", "--dir", dir, "--count", "100000000", "--proposers", "8",
                                           "--snapshot-every", "\(snapshotEvery)"])
            let giveUp = Date().addingTimeInterval(30)
            while !child.stdoutText.contains("ack ") && Date() < giveUp && child.pump(timeout: 0.05) {}
            XCTAssertTrue(child.stdoutText.contains("ack "), "no acknowledgement within 30 s; \(context); \(child.stderrText)")
            let deadline = Date().addingTimeInterval(delay)
            while Date() < deadline && child.pump(timeout: deadline.timeIntervalSinceNow) {}
            child.kill()
            XCTAssertEqual(child.finish(), .signaled(SIGKILL), "\(context): \(child.stderrText)")

            var acked: [(index: UInt64, k: UInt64)] = []
            for line in child.stdoutText.split(separator: "\n") {
                let parts = line.split(separator: " ")
                if parts.count == 2, parts[0] == "start" {
                    XCTAssertEqual(UInt64(parts[1]), lastIndex, "the child continues the log; \(context)")
                } else if parts.count == 3, parts[0] == "ack", let i = UInt64(parts[1]), let k = UInt64(parts[2]) {
                    acked.append((i, k))
                } else {
                    XCTFail("unexpected line '\(line)'; \(context)")
                }
            }
            XCTAssertFalse(acked.isEmpty, context)
            XCTAssertEqual(Set(acked.map(\.index)).count, acked.count, "an index acknowledged twice; \(context)")
            totalAcked += acked.count

            var options = EngineOptions()
            options.snapshotEveryEntries = 0
            options.snapshotEveryBytes = 0
            options.trailingEntries = 1 << 40
            let engine = try MetaEngine(directory: dir, stateMachine: InfluxStateMachine(), options: options)
            if engine.recovery.snapshot != nil { roundsWithSnapshot += 1 }
            XCTAssertEqual(engine.firstIndex, 1, context)
            for (index, k) in acked {
                XCTAssertLessThanOrEqual(index, engine.lastIndex, "acknowledged \(index) lost; \(context)")
                if index <= engine.lastIndex {
                    XCTAssertEqual(try engine.entry(at: index).payload, Self.command(k).encoded(), "entry \(index); \(context)")
                }
            }
            // Single node: everything durable is committed. The applied state must be the log's replay.
            engine.commit(to: engine.lastIndex)
            XCTAssertTrue(try engine.waitForAppliedSync(engine.lastIndex, timeoutNanos: 60_000_000_000), context)
            var replay = InfluxStateMachine()
            var next: UInt64 = 1
            while next <= engine.lastIndex {
                let batch = try engine.entries(from: next, to: engine.lastIndex + 1, maxBytes: 1 << 20)
                for p in 0..<batch.count {
                    let h = batch.header(at: p)
                    _ = batch.withPayload(at: p) { replay.apply(index: h.index, term: h.term, payload: $0) }
                }
                next += UInt64(batch.count)
            }
            XCTAssertEqual(engine.read { $0.store.data.metaDBBytes() }, replay.store.data.metaDBBytes(), context)
            lastIndex = engine.lastIndex
            try engine.close()
        }
        XCTAssertGreaterThan(totalAcked, Self.rounds * 10)
        XCTAssertGreaterThan(roundsWithSnapshot, 0, "some rounds recovered from a snapshot")
        let verify = try Metactl.run(["engine", "verify", "--dir", dir], expect: 0)
        XCTAssertTrue(verify.lines.contains("problems 0"), "\(verify)")
    }
}
