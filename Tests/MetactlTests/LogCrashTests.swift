import Foundation
import MetaLog
import XCTest

/// A seeded generator so a failing round's choices (sizes, modes, delays) can be replayed from the seed.
typealias SeededGenerator = SplitMix64

/// Real crashes: `metactl log append` is SIGKILLed at random moments while it syncs appends; every index
/// it printed as `synced` must come back with its exact payload, and reopening may cut only a torn tail.
final class LogCrashTests: XCTestCase {
    /// What one round did, for the checks and the failure messages.
    struct Round {
        var number: Int
        var mode: String
        var entryBytes: Int
        var batch: Int
        var segmentBytes: Int
        var killAfterOutput: Bool
        var delayMilliseconds: Int
        var synced: [UInt64] = []
    }

    /// Kill rounds per run (one round takes about a quarter second): 42 in CI, or METALOG_CRASH_ROUNDS
    /// (`make crash-test ROUNDS=1000`).
    static let rounds = ProcessInfo.processInfo.environment["METALOG_CRASH_ROUNDS"].flatMap { Int($0) }.map { max(3, $0) } ?? 42

    /// Rounds that share one log before the next starts afresh. Every round verifies its whole log, so one
    /// log growing over 1,000 rounds would make the run quadratic (thousands of segments); 50 rounds still
    /// cross many rotations and crash on top of many earlier crashes.
    static let roundsPerLog = 50

    func testSIGKILLDuringSyncedAppendsLosesNoAcknowledgedEntry() throws {
        let seed = UInt64.random(in: 0 ... .max)
        var random = SeededGenerator(state: seed)
        let scratch = try ScratchDirectory("crash")
        defer { scratch.remove() }
        print("LogCrashTests seed \(seed)")

        var dir = scratch.child("log-0")
        var logs = 1
        var totalSegments = 0
        var lastIndex: UInt64 = 0  // last index of the log after the previous round's reopen
        var totalSynced = 0
        var roundsWithRotation = 0
        var segmentsBefore = 0
        var tornRounds = 0
        for number in 0..<Self.rounds {
            if number > 0 && number % Self.roundsPerLog == 0 {
                // Start a fresh log; the one just finished was fully verified by its last round.
                try? FileManager.default.removeItem(atPath: dir)
                dir = scratch.child("log-\(logs)")
                logs += 1
                totalSegments += segmentsBefore
                lastIndex = 0
                segmentsBefore = 0
            }
            // Every fourth round appends batches larger than MetaLog's 64 KiB write buffer, so one append
            // takes several write(2)s and may span a rotation: a kill can land between them.
            let big = number % 4 == 1
            var round = Round(
                number: number,
                mode: ["always", "group", "none"][number % 3],
                entryBytes: big ? Int.random(in: 2000...4000, using: &random) : Int.random(in: 1...1500, using: &random),
                batch: big ? Int.random(in: 32...64, using: &random) : Int.random(in: 1...8, using: &random),
                segmentBytes: number % 2 == 0 ? 64 << 10 : 128 << 10,
                // A log's first round waits for output: a kill before the child made the directory
                // would leave no log to verify.
                killAfterOutput: number % Self.roundsPerLog == 0 || (number % 5 != 4 && number % 3 != 2),
                delayMilliseconds: Int.random(in: 0...200, using: &random))
            let context = "seed \(seed) round \(round) log \(dir)"

            // Manual durability ("none") syncs once at the end: a count that often finishes before the kill.
            let count = round.mode == "none" ? Int.random(in: 50...3000, using: &random) : 100_000_000
            let child = try Metactl.start([
                "log", "append", "--dir", dir, "--count", "\(count)", "--entry-bytes", "\(round.entryBytes)",
                "--batch", "\(round.batch)", "--sync", round.mode, "--segment-bytes", "\(round.segmentBytes)",
            ])
            var deadline = Date().addingTimeInterval(Double(round.delayMilliseconds) / 1000)
            if round.killAfterOutput {
                // Wait for the first durable point so that most kills land in the middle of appending.
                let giveUp = Date().addingTimeInterval(20)
                while child.stdout.isEmpty && Date() < giveUp && child.pump(timeout: 0.05) {}
                XCTAssertFalse(child.stdout.isEmpty, "no output within 20 s; \(context); \(child.stderrText)")
                deadline = Date().addingTimeInterval(Double(round.delayMilliseconds) / 1000)
            }
            while Date() < deadline && child.pump(timeout: deadline.timeIntervalSinceNow) {}
            child.kill()
            let exit = child.finish()
            if round.mode == "none" && exit != .signaled(SIGKILL) {
                XCTAssertEqual(exit, .exited(0), "\(context): \(child.stderrText)")  // finished before the kill
            } else {
                XCTAssertEqual(exit, .signaled(SIGKILL), "\(context): \(child.stderrText)")
            }

            // Every line is `synced <n>`, increasing, and the first continues the log.
            for line in child.stdoutText.split(separator: "\n") {
                let parts = line.split(separator: " ")
                guard parts.count == 2, parts[0] == "synced", let index = UInt64(parts[1]) else {
                    XCTFail("unexpected output line '\(line)'; \(context)")
                    continue
                }
                round.synced.append(index)
            }
            XCTAssertEqual(round.synced, round.synced.sorted(), "synced not increasing; \(context)")
            XCTAssertEqual(Set(round.synced).count, round.synced.count, "synced repeated; \(context)")
            if let first = round.synced.first {
                XCTAssertGreaterThan(first, lastIndex, "synced an index of an earlier round; \(context)")
            }
            totalSynced += round.synced.count
            let maxSynced = round.synced.last ?? lastIndex

            // Offline check through the binary: no problems at all, at most a torn tail.
            let report = try Metactl.json(["log", "verify", "--dir", dir, "--payload", "splitmix64", "--json"])
            XCTAssertEqual((report["problems"] as? [Any])?.count, 0, "\(context): \(report)")
            XCTAssertEqual(JSON.int(report["firstIndex"]), 1, context)
            guard let verifiedLast = JSON.uint64(report["lastIndex"]) else {
                XCTFail("no lastIndex in \(report); \(context)")
                return
            }
            XCTAssertGreaterThanOrEqual(verifiedLast, maxSynced, "acknowledged entries lost; \(context)")
            XCTAssertEqual(JSON.int(report["payloadsChecked"]), Int(verifiedLast), context)
            let segments = JSON.int(report["segments"]) ?? 0
            if segments > segmentsBefore && number % Self.roundsPerLog > 0 { roundsWithRotation += 1 }
            segmentsBefore = segments

            // Reopen with the library: the same entries, this round's with their exact size and term 1.
            let log = try Log(directory: dir, options: LogOptions(segmentBytes: round.segmentBytes))
            XCTAssertEqual(log.lastIndex, verifiedLast, "open kept other entries than verify; \(context)")
            XCTAssertEqual(log.firstIndex, 1, context)
            if let torn = report["tornTailOffset"] as? NSNumber {
                tornRounds += 1
                XCTAssertEqual(log.recovery.tornTail?.offset, torn.int64Value, context)
            } else {
                XCTAssertNil(log.recovery.tornTail, context)
            }
            if verifiedLast > lastIndex {
                for index in (lastIndex + 1)...verifiedLast {
                    let entry = try log.entry(at: index)
                    XCTAssertEqual(entry.term, 1, "index \(index); \(context)")
                    if entry.payload != StandardPayload.make(index: index, size: round.entryBytes) {
                        XCTFail("payload of index \(index) differs; \(context)")
                        break
                    }
                }
            }
            try log.close()
            lastIndex = verifiedLast
        }
        // The rounds must really have crashed while appending and rotating, or the test proved nothing.
        XCTAssertGreaterThan(totalSynced, 100, "seed \(seed)")
        XCTAssertGreaterThan(roundsWithRotation, Self.rounds / 6, "seed \(seed)")
        totalSegments += segmentsBefore
        print("LogCrashTests: \(Self.rounds) rounds (always/group/none in turn) over \(logs) logs, \(totalSynced) synced lines, "
            + "\(totalSegments) segments, \(roundsWithRotation) rounds rotated, \(tornRounds) torn tails cut")
    }

    /// After a crash the next append continues at the recovered last index + 1 (no gap, no overlap),
    /// and a clean run ends with `synced <last>` of exactly the requested count.
    func testAppendAfterCrashContinuesTheLog() throws {
        let scratch = try ScratchDirectory("continue")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        let child = try Metactl.start([
            "log", "append", "--dir", dir, "--count", "100000000", "--entry-bytes", "300", "--batch", "3",
            "--sync", "always", "--segment-bytes", "65536",
        ])
        let giveUp = Date().addingTimeInterval(20)
        var seen = 0
        while seen < 5 && Date() < giveUp && child.pump(timeout: 0.05) { seen += child.newLines().count }
        XCTAssertGreaterThanOrEqual(seen, 5, child.stderrText)
        child.kill()
        XCTAssertEqual(child.finish(), .signaled(SIGKILL))
        let before = try Metactl.json(["log", "verify", "--dir", dir, "--json"])
        guard let last = JSON.uint64(before["lastIndex"]) else {
            return XCTFail("no lastIndex: \(before)")
        }
        XCTAssertGreaterThanOrEqual(last, 15)

        let append = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "10", "--entry-bytes", "77", "--batch", "4", "--sync", "always"],
            expect: 0)
        XCTAssertEqual(append.lines, ["synced \(last + 4)", "synced \(last + 8)", "synced \(last + 10)"])
        let after = try Metactl.json(["log", "verify", "--dir", dir, "--payload", "splitmix64", "--json"])
        XCTAssertEqual(JSON.uint64(after["lastIndex"]), last + 10)
        XCTAssertEqual(JSON.int(after["payloadsChecked"]), Int(last + 10))
        XCTAssertTrue(after["tornTailOffset"] is NSNull, "\(after)")
        let log = try Log(directory: dir, options: LogOptions(segmentBytes: 64 << 10))
        XCTAssertEqual(try log.entry(at: last + 1).payload, StandardPayload.make(index: last + 1, size: 77))
        XCTAssertEqual(try log.entry(at: last).payload, StandardPayload.make(index: last, size: 300))
        try log.close()
    }
}
