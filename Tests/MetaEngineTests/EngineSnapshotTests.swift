import Foundation
import MetaEngine
import MetaLog
import MetaSnapshot
import XCTest

final class EngineSnapshotTests: XCTestCase {
    /// Options with an automatic snapshot every 100 entries, a trailing window of 30, two snapshots kept.
    func snapshotOptions() -> EngineOptions {
        var o = quietOptions()
        o.snapshotEveryEntries = 100
        o.trailingEntries = 30
        o.retainSnapshots = 2
        o.commitOnDurable = true
        return o
    }

    func testAutomaticSnapshotsCompactBehindATrailingWindowAndKeepTheBoundaryTerm() throws {
        let dir = makeTemporaryDirectory(self)
        var engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: snapshotOptions())
        for k in UInt64(0)..<5 {
            _ = try engine.proposeSync(counterBatch((k * 50 + 1)...(k * 50 + 50), term: k + 1))
        }
        try waitApplied(engine, 250)
        // Snapshots are due at 100 and 200 applied entries (batches may round up); wait for the second.
        let deadline = Date().addingTimeInterval(20)
        while (engine.progress.latestSnapshot?.index ?? 0) < 200 || engine.progress.snapshotInProgress {
            if Date() > deadline {
                XCTFail("no second snapshot: \(engine.progress)")
                break
            }
            Thread.sleep(forTimeInterval: 0.005)
        }
        let snaps = try engine.snapshots()
        XCTAssertEqual(snaps.count, 2, "retention keeps two")
        let newest = try XCTUnwrap(snaps.first)
        XCTAssertEqual(engine.firstIndex, newest.index - 30 + 1, "a window of 30 entries stays behind the snapshot")
        let boundary = engine.firstIndex - 1
        XCTAssertEqual(try engine.term(at: boundary), (boundary - 1) / 50 + 1)
        assertEngineError(.compacted(index: boundary - 1, firstIndex: boundary + 1)) { try engine.term(at: boundary - 1) }
        let digest = engine.read { $0.digest }
        engine.simulateCrash()

        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: snapshotOptions())
        XCTAssertEqual(engine.recovery.snapshot, newest)
        XCTAssertEqual(engine.recovery.entriesReplayed, 250 - newest.index)
        XCTAssertEqual(engine.read { $0.digest }, digest)
        XCTAssertEqual(try engine.term(at: engine.firstIndex - 1), (boundary - 1) / 50 + 1, "the boundary term is durable")
        try engine.close()
    }

    func testDamagedNewestSnapshotFallsBackToThePreviousOneAndSaysWhy() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        o.trailingEntries = 25  // the log still holds 16... after the snapshot at 40
        var engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        _ = try await engine.propose(counterBatch(1...20, term: 1))
        try waitApplied(engine, 20)
        let older = try await engine.snapshot()
        _ = try await engine.propose(counterBatch(21...40, term: 1))
        try waitApplied(engine, 40)
        let newer = try await engine.snapshot()
        XCTAssertEqual([older, newer].map(\.index), [20, 40])
        let digest = engine.read { $0.digest }
        try engine.close()
        // Flip a byte in the newest snapshot's body.
        let path = dir + "/snapshots/" + newer.fileName
        var bytes = [UInt8](FileManager.default.contents(atPath: path)!)
        let layout = try SnapshotReader(path: path).layout
        bytes[Int(layout.headerLength) + 3] ^= 0x40
        FileManager.default.createFile(atPath: path, contents: Data(bytes))

        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        XCTAssertEqual(engine.recovery.snapshot, older)
        XCTAssertEqual(engine.recovery.skippedSnapshots.map(\.id), [newer])
        XCTAssertTrue(engine.recovery.skippedSnapshots[0].reason.contains("\(layout.headerLength)"),
                      engine.recovery.skippedSnapshots[0].reason)
        XCTAssertEqual(engine.recovery.entriesReplayed, 20)
        XCTAssertEqual(engine.read { $0.digest }, digest)
        try engine.close()

        // Without the entries after the older snapshot, opening refuses with the gap named.
        var tight = o
        tight.trailingEntries = 0
        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: tight)
        _ = try await engine.propose(counterBatch(41...41, term: 1))
        _ = try await engine.snapshot()  // snapshot at 41, log compacted through 41; newest damaged below
        try engine.close()
        let path41 = dir + "/snapshots/" + SnapshotID(index: 41, term: 1).fileName
        var b41 = [UInt8](FileManager.default.contents(atPath: path41)!)
        b41[b41.count - 5] ^= 1
        FileManager.default.createFile(atPath: path41, contents: Data(b41))
        // Retention (2) removed the snapshot at 20; both kept ones are damaged: the state would be empty.
        assertEngineError(.logGap(stateIndex: 0, logFirstIndex: 42)) {
            try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: tight)
        }
    }

    func testChangesStreamFollowsAppliedEntriesAndFailsWithCompacted() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        _ = try await engine.propose(counterBatch(1...5, term: 1))
        var seen: [(UInt64, UInt64?)] = []
        var iterator = engine.changes(after: 2).makeAsyncIterator()
        for _ in 0..<3 {
            let c = try await iterator.next()!
            seen.append((c.index, c.result ?? nil))
            XCTAssertEqual(c.payload, CounterMachine.command(key: c.index % 7, delta: c.index))
            XCTAssertEqual(c.kind, .command)
        }
        XCTAssertEqual(seen.map(\.0), [3, 4, 5])
        XCTAssertEqual(seen.map(\.1), [3, 4, 5])
        // The next one arrives when applied.
        let later = Task { try await iterator.next()!.index }
        _ = try await engine.propose(counterBatch(6...6, term: 1))
        let six = try await later.value
        XCTAssertEqual(six, 6)
        _ = try await engine.snapshot()  // trailing window 0: the log is compacted through 6
        XCTAssertEqual(engine.firstIndex, 7)
        var stale = engine.changes(after: 3).makeAsyncIterator()
        do {
            _ = try await stale.next()
            XCTFail("expected .compacted")
        } catch let e as EngineError {
            XCTAssertEqual(e, .compacted(index: 4, firstIndex: 7))
        }
        try engine.close()
    }

    func testInstallSnapshotFromALeaderReplacesStateAndResetsTheLog() async throws {
        let leaderDir = makeTemporaryDirectory(self)
        let followerDir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let leader = try MetaEngine(directory: leaderDir, stateMachine: CounterMachine(), options: o)
        _ = try await leader.propose(counterBatch(1...50, term: 3))
        try waitApplied(leader, 50)
        let id = try await leader.snapshot()
        // The follower has a stale, conflicting suffix of an old term.
        var follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        _ = try follower.appendSync(counterBatch(1...10, term: 1), at: 1)
        try follower.commit(to: 4, durable: true)
        try waitApplied(follower, 4)
        let receiver = try follower.snapshotReceiver(for: id)
        let size = try leader.snapshotFileSize(id)
        var offset: UInt64 = 0
        while offset < size {
            let piece = try leader.snapshotBytes(id, offset: offset, count: 100)
            try receiver.append(at: offset, piece)
            offset += UInt64(piece.count)
        }
        try receiver.finish()
        XCTAssertTrue(try follower.installSnapshot(id))
        XCTAssertEqual(follower.appliedIndex, 50)
        XCTAssertEqual(follower.commitIndex, 50)
        XCTAssertEqual(follower.firstIndex, 51)
        XCTAssertEqual(follower.lastIndex, 50)
        XCTAssertEqual(try follower.term(at: 50), 3)
        XCTAssertEqual(follower.read { $0.digest }, leader.read { $0.digest })
        assertEngineError(.resultUnavailable(index: 30)) { try blockingApplied(follower, 30) }
        // It continues from there.
        _ = try follower.appendSync(counterBatch(51...52, term: 3), at: 51)
        follower.commit(to: 52)
        try waitApplied(follower, 52)
        follower.simulateCrash()
        follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(follower.recovery.snapshot, id)
        XCTAssertEqual(follower.appliedIndex, 50, "commit 52 was not saved; the host re-commits it")
        try follower.close()
        try leader.close()
    }

    func testCrashAfterTheReceivedSnapshotIsPublishedButBeforeInstallGivesTheNewState() async throws {
        let leaderDir = makeTemporaryDirectory(self)
        let followerDir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let leader = try MetaEngine(directory: leaderDir, stateMachine: CounterMachine(), options: o)
        _ = try await leader.propose(counterBatch(1...30, term: 2))
        try waitApplied(leader, 30)
        let id = try await leader.snapshot()
        var follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        _ = try follower.appendSync(counterBatch(1...40, term: 1), at: 1)  // longer, conflicting, uncommitted
        let receiver = try follower.snapshotReceiver(for: id)
        let all = try leader.snapshotBytes(id, offset: 0, count: Int(try leader.snapshotFileSize(id)))
        // A crash mid-transfer: the partial file is ignored on open (old state), and the transfer resumes.
        try receiver.append(at: 0, Array(all[..<40]))
        try receiver.sync()
        follower.simulateCrash()
        follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertNil(follower.recovery.snapshot)
        XCTAssertEqual(follower.lastIndex, 40)
        let resumed = try follower.snapshotReceiver(for: id)
        XCTAssertEqual(resumed.offset, 40)
        try resumed.append(at: 40, Array(all[40...]))
        try resumed.finish()
        follower.simulateCrash()  // published, install never ran
        follower = try MetaEngine(directory: followerDir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(follower.recovery.snapshot, id)
        XCTAssertTrue(follower.recovery.logReset)
        XCTAssertEqual(follower.firstIndex, 31)
        XCTAssertEqual(follower.lastIndex, 30)
        XCTAssertEqual(try follower.term(at: 30), 2)
        XCTAssertEqual(follower.read { $0.digest }, leader.read { $0.digest })
        try follower.close()
        try leader.close()
    }
}

/// `applied(index)` through the callback form, blocking.
func blockingApplied<M>(_ engine: MetaEngine<M>, _ index: UInt64) throws -> M.ApplyResult? {
    let done = DispatchSemaphore(value: 0)
    nonisolated(unsafe) var result: Result<M.ApplyResult?, EngineError>?
    engine.onApplied(index) {
        result = $0
        done.signal()
    }
    done.wait()
    return try result!.get()
}
