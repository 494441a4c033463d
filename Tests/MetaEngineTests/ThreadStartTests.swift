import Foundation
import MetaEngine
import XCTest

/// Which engine threads a test refuses to start (as pthread_create does under a thread limit).
final class ThreadRefusals: @unchecked Sendable {
    private let lock = NSLock()
    private var roles: Set<String> = []

    var refused: Set<String> {
        get { lock.withLock { roles } }
        set { lock.withLock { roles = newValue } }
    }

    /// The seam for `EngineOptions.refuseThread`: EAGAIN for a refused role.
    func decide(_ role: String) -> Int32? { lock.withLock { roles.contains(role) ? EAGAIN : nil } }
}

/// A thread the system will not start is an error the host gets, never a trap of its process.
final class ThreadStartTests: XCTestCase {
    private func options(_ refusals: ThreadRefusals) -> EngineOptions {
        var o = quietOptions()
        o.commitOnDurable = true
        o.refuseThread = { refusals.decide($0) }
        return o
    }

    /// Opening fails with `.threadUnavailable` naming the thread, releases the directory, and a retry
    /// opens the same state: for the writer (no thread started yet) and the apply loop (the writer started
    /// and must be stopped again).
    func testOpeningFailsCleanlyWhenAnEngineThreadCannotStart() throws {
        for role in ["writer", "apply"] {
            let dir = makeTemporaryDirectory(self)
            let refusals = ThreadRefusals()
            let first = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: options(refusals))
            XCTAssertEqual(try first.proposeSync(counterBatch(1...6, term: 1)), 1...6)
            try waitApplied(first, 6)
            let expected = try first.read { $0 }
            try first.close()

            refusals.refused = [role]
            XCTAssertThrowsError(try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: options(refusals))) {
                XCTAssertEqual($0 as? EngineError, .threadUnavailable(role: role, errno: EAGAIN), role)
                XCTAssertTrue("\($0)".contains("could not start the engine's \(role) thread"), "\($0)")
            }

            refusals.refused = []
            let again = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: options(refusals))
            try waitApplied(again, 6)
            XCTAssertEqual(try again.read { $0 }, expected, role)
            XCTAssertEqual(try again.proposeSync(counterBatch(7...7, term: 1)), 7...7, role)
            try again.close()
        }
    }

    /// A snapshot whose thread cannot start fails with that error; the engine keeps appending and
    /// applying, and the next snapshot, once threads start again, covers everything applied.
    func testASnapshotWhoseThreadCannotStartFailsAndTheEngineGoesOn() throws {
        let dir = makeTemporaryDirectory(self)
        let refusals = ThreadRefusals()
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: options(refusals))
        XCTAssertEqual(try engine.proposeSync(counterBatch(1...4, term: 1)), 1...4)
        try waitApplied(engine, 4)
        refusals.refused = ["snapshot"]
        XCTAssertThrowsError(try engine.snapshotSync()) {
            XCTAssertEqual($0 as? EngineError, .threadUnavailable(role: "snapshot", errno: EAGAIN))
        }
        XCTAssertEqual(try engine.snapshots(), [])
        XCTAssertEqual(engine.progress.latestSnapshot, nil)
        XCTAssertEqual(try engine.proposeSync(counterBatch(5...9, term: 1)), 5...9)
        try waitApplied(engine, 9)
        refusals.refused = []
        XCTAssertEqual(try engine.snapshotSync().index, 9)
        try engine.close()

        let reopened = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: options(refusals))
        XCTAssertEqual(reopened.recovery.snapshot?.index, 9)
        XCTAssertEqual(reopened.recovery.entriesReplayed, 0)
        try reopened.close()
    }
}
