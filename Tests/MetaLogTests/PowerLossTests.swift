import Foundation
@testable import MetaLog
import XCTest

/// Power loss, not process kills: each scenario runs against a recording file system, then every crash
/// state a strict POSIX model allows at its sync points (and at random points between) is rebuilt on
/// disk and opened. Every acknowledged entry must come back exactly, acknowledged hard state too,
/// entries an acknowledged truncate dropped stay dropped, nothing an acknowledged removePrefix removed
/// comes back as a gap, and the log accepts appends afterwards (and recovers again after them).
final class PowerLossTests: XCTestCase {
    static let segmentBytes = 8192

    private func scenario(_ durability: Durability, segmentBytes: Int = segmentBytes,
                          _ body: (PowerLossRun, Log) throws -> Void) throws -> PowerLossRun {
        let scratch = PowerLossChecker.scratchRoot(self)
        let run = PowerLossRun(root: scratch + "/run")
        try FileManager.default.createDirectory(atPath: run.root, withIntermediateDirectories: true)
        let log = try Log(directory: run.directory, options: run.options(durability, segmentBytes: segmentBytes))
        try body(run, log)
        return run
    }

    /// Checks the run's crash states; with `rotate`, the appends after each recovery go through two
    /// rotations, and the number of states whose new segments went into spares kept by opening is returned.
    @discardableResult
    private func check(_ run: PowerLossRun, seed: UInt64, recoveryCrashes: Int = 0, rotate: Bool = false,
                       name: String = #function, file: StaticString = #filePath, line: UInt = #line) -> Int {
        let scratch = PowerLossChecker.scratchRoot(self)
        let (states, recycled) = PowerLossChecker.run(run, scratch: scratch, segmentBytes: Self.segmentBytes, seed: seed,
                                                      recoveryCrashes: recoveryCrashes, rotateAfterRecovery: rotate,
                                                      file: file, line: line)
        print("PowerLossTests \(name): \(states) crash states from \(run.fs.recorded.count) operations"
              + (rotate ? ", \(recycled) rotated into spares kept by opening" : ""))
        XCTAssertGreaterThan(states, 100, file: file, line: line)
        return recycled
    }

    /// syncEveryAppend with rotation (and so seals) at a small segment size.
    func testSyncEveryAppendWithRotationAndSeal() throws {
        let run = try scenario(.syncEveryAppend) { run, log in
            for round in 0..<40 {
                try run.append(log, count: 1 + round % 4, term: 1 + UInt64(round / 10), size: 100 + (round * 37) % 700)
            }
            XCTAssertGreaterThan(log.segmentCount, 3)
        }
        check(run, seed: 1)
    }

    /// groupCommit with 8 writer threads sharing fdatasyncs.
    func testGroupCommitEightWriters() throws {
        let run = try scenario(.groupCommit) { run, log in
            onThreads(8) { thread in
                for round in 0..<6 {
                    _ = try? run.append(log, count: 1 + (thread + round) % 3, term: 1, size: 60 + thread * 50)
                }
            }
            XCTAssertEqual(log.lastIndex, log.durableIndex)
        }
        check(run, seed: 2)
    }

    /// manual durability: appends acknowledged only by sync().
    func testManualWithSync() throws {
        let run = try scenario(.manual) { run, log in
            for round in 0..<30 {
                try run.append(log, count: 1 + round % 3, term: 1, size: 150 + (round * 53) % 500, manual: true)
                if round % 4 == 3 {
                    try log.sync()
                    run.event(.syncAcked)
                }
            }
            try log.sync()
            run.event(.syncAcked)
        }
        check(run, seed: 3)
    }

    /// truncate(after:) within the active segment and across segments (sealed ones kept as spares, which the
    /// appends after it rotate into: old frames with indexes above the new segments' bases), and Raft
    /// conflict overwrites.
    func testTruncateAndConflictOverwrite() throws {
        let run = try scenario(.syncEveryAppend) { run, log in
            for round in 0..<40 { try run.append(log, count: 2, term: 1, size: 200 + round * 13) }
            run.event(.truncateIssued(after: 35))
            try log.truncate(after: 35)
            run.event(.truncateAcked(after: 35))
            run.event(.truncateIssued(after: 12))
            try log.truncate(after: 12)
            run.event(.truncateAcked(after: 12))
            XCTAssertEqual(spareFiles(run.directory).count, 2, "truncate kept two dropped sealed segments")
            for round in 0..<10 { try run.append(log, count: 2, term: 2, size: 300 + round * 11) }
            // Conflicts: in the active segment (one sync) and reaching into a sealed one.
            try run.append(log, count: 3, term: 3, size: 120, at: log.lastIndex - 1)
            try run.append(log, count: 2, term: 4, size: 90, at: 15, hard: HardState(term: 4, vote: 1, commit: 10))
            for _ in 0..<5 { try run.append(log, count: 2, term: 4, size: 250) }
            XCTAssertEqual(log.recycledSegmentsForTesting, 2, "the appends went into truncate's spares")
        }
        XCTAssertGreaterThan(check(run, seed: 4, rotate: true), 0)
    }

    /// removePrefix(through:) deleting several segments, past the end, and reset(after:term:) (the second
    /// keeps sealed segments as spares, which the appends after it rotate into).
    func testRemovePrefixAndReset() throws {
        let run = try scenario(.syncEveryAppend) { run, log in
            for round in 0..<30 { try run.append(log, count: 2, term: 1, size: 300 + round * 7) }
            run.event(.prefixIssued(through: 40))
            try log.removePrefix(through: 40)
            run.event(.prefixAcked(through: 40))
            for _ in 0..<5 { try run.append(log, count: 2, term: 2, size: 200) }
            let end = log.lastIndex + 3
            run.event(.prefixIssued(through: end))
            try log.removePrefix(through: end)
            run.event(.prefixAcked(through: end))
            for _ in 0..<8 { try run.append(log, count: 2, term: 3, size: 400) }
            // Into the middle of the log (entries after it in the active and a sealed segment), then ahead.
            let middle = log.lastIndex - 9
            run.event(.resetIssued(after: middle, term: 6))
            try log.reset(after: middle, term: 6)
            run.event(.resetAcked(after: middle, term: 6))
            // Sealed segments for the next reset to keep as spares, then appends that rotate into them.
            for _ in 0..<12 { try run.append(log, count: 2, term: 6, size: 700) }
            let before = Set(spareFiles(run.directory))
            run.event(.resetIssued(after: 200, term: 7))
            try log.reset(after: 200, term: 7)
            run.event(.resetAcked(after: 200, term: 7))
            XCTAssertFalse(Set(spareFiles(run.directory)).subtracting(before).isEmpty, "reset kept a dropped sealed segment")
            let recycled = log.recycledSegmentsForTesting
            for _ in 0..<14 { try run.append(log, count: 2, term: 7, size: 700) }
            XCTAssertGreaterThan(log.recycledSegmentsForTesting, recycled, "the appends went into reset's spares")
        }
        XCTAssertGreaterThan(check(run, seed: 5, rotate: true), 0)
    }

    /// Segment recycling: removePrefix keeps dropped segments as spares, later rotations write into them
    /// (old frames after the new ones, frame sizes that do not line up with the old ones, a hard-state
    /// record at the start), and a second removePrefix recycles files that were recycled already.
    func testRecycledSegments() throws {
        let run = try scenario(.syncEveryAppend) { run, log in
            for round in 0..<24 { try run.append(log, count: 2, term: 1, size: 500 + (round * 71) % 300) }
            run.event(.prefixIssued(through: 36))
            try log.removePrefix(through: 36)
            run.event(.prefixAcked(through: 36))
            let hard = HardState(term: 2, vote: 1, commit: 30)
            run.event(.hardIssued(hard))
            try log.saveHardState(hard)
            run.event(.hardAcked(hard))
            for round in 0..<16 { try run.append(log, count: 1 + round % 3, term: 2, size: 90 + (round * 173) % 900) }
            let through = log.lastIndex - 6
            run.event(.prefixIssued(through: through))
            try log.removePrefix(through: through)
            run.event(.prefixAcked(through: through))
            for round in 0..<14 { try run.append(log, count: 1 + round % 2, term: 3, size: 150 + (round * 211) % 700) }
            XCTAssertTrue(log.recycledSegmentsForTesting >= 3, "\(log.recycledSegmentsForTesting) segments recycled")
        }
        // Spares survive the crash: after each recovery, the appends rotate into the ones opening kept.
        let reused = check(run, seed: 9, rotate: true)
        XCTAssertGreaterThan(reused, 100, "crash states whose later segments went into spares kept by opening")
    }

    /// saveHardState (records in the segment, copies at rotation, checkpoints before cuts) and hard state
    /// riding with entries.
    func testHardState() throws {
        let run = try scenario(.syncEveryAppend) { run, log in
            for round in 0..<24 {
                try run.append(log, count: 2, term: UInt64(1 + round / 6), size: 250)
                let state = HardState(term: UInt64(1 + round / 6), vote: UInt64(round % 3), commit: log.lastIndex - 1,
                                      context: Array(repeating: UInt8(round), count: round % 5))
                run.event(.hardIssued(state))
                try log.saveHardState(state)
                run.event(.hardAcked(state))
                if round % 5 == 4 {
                    try run.append(log, count: 1, term: UInt64(1 + round / 6), size: 80, at: log.lastIndex + 1,
                                   hard: HardState(term: UInt64(1 + round / 6), vote: 9, commit: log.lastIndex))
                }
            }
            run.event(.truncateIssued(after: 5))
            try log.truncate(after: 5)
            run.event(.truncateAcked(after: 5))
        }
        check(run, seed: 6)
    }

    /// A crash during recovery: crash states of what opening a crash state writes (cutting torn tails,
    /// growing the active segment, markers, directory syncs) must reopen to the same log.
    func testCrashDuringRecovery() throws {
        let run = try scenario(.manual) { run, log in
            for round in 0..<16 {
                try run.append(log, count: 2, term: 1, size: 400 + round * 31, manual: true)
                if round % 5 == 4 {
                    try log.sync()
                    run.event(.syncAcked)
                }
            }
        }
        check(run, seed: 7, recoveryCrashes: 40)
    }
}
