import MetaEngine
import MetaLog
import MetaSnapshot
import XCTest

final class EngineBasicTests: XCTestCase {
    func testProposeCommitApplyReturnsEachResultAndReopenReplaysThroughDurableCommit() async throws {
        let dir = makeTemporaryDirectory(self)
        var engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertNil(engine.recovery.snapshot)
        XCTAssertEqual(engine.recovery.entriesReplayed, 0)
        let range = try await engine.propose(counterBatch(1...10, term: 1))
        XCTAssertEqual(range, 1...10)
        XCTAssertEqual(engine.durableIndex, 10)
        XCTAssertEqual(engine.appliedIndex, 0, "nothing committed yet")
        try engine.commit(to: 6, durable: true)
        // Key 3 gets deltas 3 (index 3); index 10 adds 10 to key 3: 13.
        let r6 = try await engine.applied(6)
        XCTAssertEqual(r6, .some(6))
        engine.commit(to: 10)
        let r10 = try await engine.applied(10)
        XCTAssertEqual(r10, .some(13))
        XCTAssertEqual(engine.read { $0.counters[3] }, 13)
        engine.simulateCrash()  // commit 10 was never saved: 6 is the durable commit

        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(engine.recovery.entriesReplayed, 6)
        XCTAssertEqual(engine.recovery.commitIndex, 6)
        XCTAssertEqual(engine.recovery.logLastIndex, 10)
        XCTAssertEqual(engine.appliedIndex, 6)
        XCTAssertEqual(engine.read { $0.counters[3] }, 3, "entries past the durable commit stay unapplied")
        engine.commit(to: 10)
        try waitApplied(engine, 10)
        XCTAssertEqual(engine.read { $0.counters[3] }, 13)
        try engine.close()

        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(engine.recovery.entriesReplayed, 10, "close saves the commit index")
        XCTAssertEqual(engine.read { $0.applyCount }, 10)
        try engine.close()
    }

    func testEntryKindsAdvanceTheAppliedIndexAndMembershipIsKeptInSnapshots() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        var engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        var batch = EntryBatch()
        batch.append(term: 2, kind: EntryKind.noop.rawValue, payload: [])
        batch.append(term: 2, kind: EntryKind.membership.rawValue, payload: [1, 2, 3])
        batch.append(term: 2, payload: CounterMachine.command(key: 9, delta: 5))
        batch.append(term: 2, kind: EntryKind.host(77).rawValue, payload: CounterMachine.command(key: 9, delta: 100))
        batch.append(term: 2, payload: [0xff])  // not a command the machine understands
        _ = try await engine.propose(batch)
        let r1 = try await engine.applied(1)
        XCTAssertEqual(r1, .none, "a no-op has no result")
        let r3 = try await engine.applied(3)
        XCTAssertEqual(r3, .some(5))
        let r4 = try await engine.applied(4)
        XCTAssertEqual(r4, .none, "host kinds are not given to the machine")
        let r5 = try await engine.applied(5)
        XCTAssertEqual(r5, .some(nil), "the machine answered nil for a payload it refused")
        XCTAssertEqual(engine.read { [$0.appliedIndex, $0.appliedTerm, $0.applyCount, $0.counters[9] ?? 0] }, [5, 2, 2, 5])
        XCTAssertEqual(engine.membershipBytes, [1, 2, 3])
        let id = try await engine.snapshot()
        XCTAssertEqual(id, SnapshotID(index: 5, term: 2))
        let reader = try SnapshotReader(path: dir + "/snapshots/" + id.fileName)
        XCTAssertEqual(reader.meta.membership, [1, 2, 3])
        XCTAssertEqual(reader.meta.stateMachineKind, "test-counters")
        try engine.close()
        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        XCTAssertEqual(engine.recovery.snapshot, id)
        XCTAssertEqual(engine.recovery.entriesReplayed, 0)
        XCTAssertEqual(engine.membershipBytes, [1, 2, 3])
        XCTAssertEqual(engine.read { $0.counters[9] }, 5)
        try engine.close()
    }

    func testWaitForAppliedTimesOutThenSucceedsAndSyncFormsAgree() async throws {
        let dir = makeTemporaryDirectory(self)
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        let early = try await engine.waitForApplied(3, timeout: .milliseconds(20))
        XCTAssertFalse(early)
        XCTAssertFalse(try engine.waitForAppliedSync(3, timeoutNanos: 20_000_000))
        let waiting = Task { try await engine.waitForApplied(3, timeout: .seconds(30)) }
        _ = try engine.proposeSync(counterBatch(1...3, term: 1))
        engine.commit(to: 3)
        let reached = try await waiting.value
        XCTAssertTrue(reached)
        XCTAssertTrue(try engine.waitForAppliedSync(3, timeoutNanos: 1))
        let box = ResultBox()
        engine.onApplied(2) { box.set($0) }
        XCTAssertEqual(box.get(), .success(.some(2)), "index 2 added 2 to key 2")
        try engine.close()
    }

    func testAppliedIsCancellableAndCloseAnswersWaiters() async throws {
        let dir = makeTemporaryDirectory(self)
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        let cancelled = Task { try await engine.applied(100) }
        cancelled.cancel()
        do {
            _ = try await cancelled.value
            XCTFail("expected cancellation")
        } catch is CancellationError {}
        let pending = Task { try await engine.applied(50) }
        try await Task.sleep(for: .milliseconds(20))
        try engine.close()
        do {
            _ = try await pending.value
            XCTFail("expected .closed")
        } catch let e as EngineError {
            XCTAssertEqual(e, .closed)
        }
        assertEngineError(.closed) { try engine.proposeSync(counterBatch(1...1, term: 1)) }
    }

    func testFollowerAppendOverwritesConflictsButNeverCommittedEntries() throws {
        let dir = makeTemporaryDirectory(self)
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(try engine.appendSync(counterBatch(1...5, term: 1), at: 1), 1...5)
        try engine.commit(to: 2, durable: false)
        // A new leader (term 2) agrees through 3 and replaces 4...5 with 4...6.
        var b = counterBatch(3...3, term: 1)
        for i in UInt64(4)...6 { b.append(term: 2, payload: CounterMachine.command(key: 0, delta: i)) }
        XCTAssertEqual(try engine.appendSync(b, at: 3), 3...6)
        XCTAssertEqual(engine.lastIndex, 6)
        XCTAssertEqual(try (1...6).map { try engine.term(at: $0) }, [1, 1, 1, 2, 2, 2])
        // A resend of what is there changes nothing.
        XCTAssertEqual(try engine.appendSync(counterBatch(1...2, term: 1), at: 1), 1...2)
        XCTAssertEqual(engine.lastIndex, 6)
        assertEngineError(.wouldTruncateCommitted(index: 2, commit: 2)) {
            try engine.appendSync(counterBatch(2...2, term: 3), at: 2)
        }
        assertEngineError(.nonContiguous(expected: 7, found: 9)) { try engine.appendSync(counterBatch(9...9, term: 2), at: 9) }
        assertEngineError(.unavailable(index: 7, lastIndex: 6)) { try engine.entries(from: 1, to: 8) }
        try waitApplied(engine, 2)
        try engine.close()
    }

    func testHostStateNamedValuesSurviveReopenAndEngineKeysAreRefused() throws {
        let dir = makeTemporaryDirectory(self)
        var engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        let state = HostState(term: 4, vote: 2, commit: 0, values: ["acceptedEpoch": [4], "CurrentTerm": [0, 0, 0, 4]])
        try engine.saveHostState(state)
        assertEngineError(.invalidArgument("host value keys must not start with \"engine.\"")) {
            try engine.saveHostState(HostState(values: ["engine.x": []]))
        }
        engine.simulateCrash()
        engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        XCTAssertEqual(engine.hostState, state)
        try engine.close()
    }

    func testSnapshotOfAnotherMachineKindIsRefusedByName() async throws {
        let dir = makeTemporaryDirectory(self)
        let store = try SnapshotStore(directory: dir + "/snapshots")
        let writer = try store.create(SnapshotMeta(stateMachineKind: "other", stateMachineVersion: 3, lastIndex: 5, lastTerm: 1))
        try writer.write([1, 2, 3])
        try store.publish(writer)
        assertEngineError(.snapshotKindMismatch(
            file: SnapshotID(index: 5, term: 1).fileName, expectedKind: "test-counters",
            expectedVersion: 1, foundKind: "other", foundVersion: 3)) {
            try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        }
    }
}

/// A thread-safe slot for a callback's result.
final class ResultBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<UInt64??, EngineError>?
    func set(_ v: Result<UInt64??, EngineError>) { lock.withLock { value = v } }
    func get() -> Result<UInt64??, EngineError>? { lock.withLock { value } }
}
