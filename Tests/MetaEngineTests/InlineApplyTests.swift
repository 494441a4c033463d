import Foundation
import MetaEngine
import MetaFSM
import MetaLog
import XCTest

#if canImport(Glibc)
import Glibc
#endif

/// A machine whose result for each entry is the thread that applied it (and the entry's index), so a test
/// can tell whether the writer thread (the one that runs `propose(_:completion:)` callbacks) or the apply
/// thread applied a group.
private struct ThreadTaggingMachine: StateMachine, Sendable {
    typealias ApplyResult = (thread: UInt, index: UInt64)
    static let kind = "test-thread-tagging"
    static let snapshotVersion: UInt32 = 1
    var appliedIndex: UInt64 = 0
    var appliedTerm: UInt64 = 0

    mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> ApplyResult {
        appliedIndex = index
        appliedTerm = term
        return (UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))), index)
    }

    mutating func skip(index: UInt64, term: UInt64) {
        appliedIndex = index
        appliedTerm = term
    }

    func writeSnapshot(to sink: inout some SnapshotSink) throws {
        var out: [UInt8] = []
        withUnsafeBytes(of: appliedIndex.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: appliedTerm.littleEndian) { out.append(contentsOf: $0) }
        try out.withUnsafeBytes { try sink.write($0) }
    }

    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        let bytes = try source.readAll()
        guard bytes.count == 16 else { throw MetaFSMError.snapshot(reason: "tagging snapshot of \(bytes.count) bytes, expected 16") }
        appliedIndex = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian }
        appliedTerm = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian }
    }
}

/// `EngineOptions.inlineApplyEntries`: with `commitOnDurable`, the writer applies a small group itself
/// after its fdatasync (no wake-up of the apply thread), before it answers the group's callers; larger
/// groups and a setting of 0 leave every entry to the apply thread.
final class InlineApplyTests: XCTestCase {
    private func open(_ dir: String, inline: Int) throws -> MetaEngine<ThreadTaggingMachine> {
        var o = quietOptions()
        o.commitOnDurable = true
        o.inlineApplyEntries = inline
        return try MetaEngine(directory: dir, stateMachine: ThreadTaggingMachine(), options: o)
    }

    /// Proposes `count` entries in one batch, waits for the durability callback (which runs on the writer
    /// thread) and returns that thread, the applied index the callback saw, and each entry's result.
    private func proposeOnce(_ engine: MetaEngine<ThreadTaggingMachine>, count: Int) async throws
        -> (writer: UInt, appliedInCallback: UInt64, range: ClosedRange<UInt64>, results: [ThreadTaggingMachine.ApplyResult])
    {
        var batch = EntryBatch()
        for i in 0..<count { batch.append(term: 1, payload: [UInt8(truncatingIfNeeded: i)]) }
        let (writer, seen, range) = try await withCheckedThrowingContinuation {
            (c: CheckedContinuation<(UInt, UInt64, ClosedRange<UInt64>), Error>) in
            engine.propose(batch) { outcome in
                let me = UInt(bitPattern: Int(bitPattern: UInt(pthread_self())))
                c.resume(with: outcome.map { (me, engine.appliedIndex, $0) }.mapError { $0 as Error })
            }
        }
        var results: [ThreadTaggingMachine.ApplyResult] = []
        for i in range {
            guard let r = try await engine.applied(i) else { XCTFail("no result for \(i)"); continue }
            results.append(r)
        }
        return (writer, seen, range, results)
    }

    /// A group within the limit is applied by the writer thread, and is applied before the proposer's
    /// callback runs: the callback already sees the applied index.
    func testSmallGroupIsAppliedByTheWriterBeforeItsCallback() async throws {
        let engine = try open(makeTemporaryDirectory(self), inline: 64)
        for round in 0..<5 {
            let got = try await proposeOnce(engine, count: 64)
            XCTAssertEqual(got.range, UInt64(round * 64 + 1)...UInt64(round * 64 + 64))
            XCTAssertEqual(got.appliedInCallback, got.range.upperBound, "round \(round): callback ran before the apply")
            XCTAssertEqual(got.results.map(\.index), Array(got.range))
            XCTAssertEqual(Set(got.results.map(\.thread)), [got.writer], "round \(round): not applied on the writer thread")
        }
        try engine.close()
    }

    /// One entry over the limit, or the limit at 0: the apply thread applies the group, never the writer.
    func testLargerGroupsAndZeroLimitUseTheApplyThread() async throws {
        for (inline, count) in [(64, 65), (0, 1), (0, 16)] {
            let engine = try open(makeTemporaryDirectory(self), inline: inline)
            for round in 0..<3 {
                let got = try await proposeOnce(engine, count: count)
                XCTAssertEqual(got.results.map(\.index), Array(got.range))
                XCTAssertFalse(got.results.contains { $0.thread == got.writer },
                               "inline \(inline), \(count) entries, round \(round): applied on the writer thread")
                XCTAssertEqual(Set(got.results.map(\.thread)).count, 1)
            }
            try engine.close()
        }
    }

    /// Without `commitOnDurable` the host commits: the writer never applies, even a small group.
    func testHostCommittedEntriesAreAppliedByTheApplyThread() async throws {
        var o = quietOptions()
        o.inlineApplyEntries = 64
        let engine = try MetaEngine(directory: makeTemporaryDirectory(self), stateMachine: ThreadTaggingMachine(), options: o)
        var batch = EntryBatch()
        batch.append(term: 1, payload: [1])
        let writer = try await withCheckedThrowingContinuation { (c: CheckedContinuation<UInt, Error>) in
            engine.propose(batch) { outcome in
                c.resume(with: outcome.map { _ in UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))) }.mapError { $0 as Error })
            }
        }
        try engine.commit(to: 1)
        let r = try await engine.applied(1)
        XCTAssertEqual(r?.index, 1)
        XCTAssertNotEqual(r?.thread, writer)
        try engine.close()
    }

    /// Without `commitOnDurable`, also when the host committed the index before it was durable here (a
    /// leader that heard from a quorum first): the group becomes applicable at the writer's sync, and still
    /// the apply thread applies it, as the option's documentation says.
    func testCommitAheadOfDurabilityStillUsesTheApplyThread() async throws {
        var o = quietOptions()
        o.inlineApplyEntries = 64
        let engine = try MetaEngine(directory: makeTemporaryDirectory(self), stateMachine: ThreadTaggingMachine(), options: o)
        for index in UInt64(1)...3 {
            engine.commit(to: index)
            var batch = EntryBatch()
            batch.append(term: 1, payload: [UInt8(index)])
            let writer = try await withCheckedThrowingContinuation { (c: CheckedContinuation<UInt, Error>) in
                engine.propose(batch) { outcome in
                    c.resume(with: outcome.map { _ in UInt(bitPattern: Int(bitPattern: UInt(pthread_self()))) }.mapError { $0 as Error })
                }
            }
            let r = try await engine.applied(index)
            XCTAssertEqual(r?.index, index)
            XCTAssertNotEqual(r?.thread, writer, "entry \(index) applied on the writer thread")
        }
        try engine.close()
    }

    /// A negative limit is refused when opening, naming the option (it would otherwise trap on conversion).
    func testNegativeLimitIsRefused() throws {
        XCTAssertThrowsError(try open(makeTemporaryDirectory(self), inline: -1)) { e in
            XCTAssertEqual(e as? EngineError, .invalidArgument("inlineApplyEntries must not be negative (0 turns inline apply off)"))
        }
    }

    /// Both paths give the same answers: 16 concurrent proposers, inline on and off, every caller gets its
    /// own entry's result and the indexes cover the log exactly.
    func testConcurrentProposersGetTheirOwnResultOnBothPaths() async throws {
        for inline in [0, 64] {
            let engine = try open(makeTemporaryDirectory(self), inline: inline)
            let indexes = try await withThrowingTaskGroup(of: [UInt64].self) { group in
                for _ in 0..<16 {
                    group.addTask {
                        var mine: [UInt64] = []
                        for _ in 0..<25 {
                            var batch = EntryBatch()
                            batch.append(term: 1, payload: [7])
                            let (range, result) = try await engine.proposeAndWait(batch)
                            XCTAssertEqual(result?.index, range.upperBound, "inline \(inline): another entry's result")
                            mine.append(range.upperBound)
                        }
                        return mine
                    }
                }
                var all: [UInt64] = []
                for try await g in group { all += g }
                return all
            }
            XCTAssertEqual(indexes.sorted(), Array(1...400), "inline \(inline)")
            XCTAssertEqual(engine.appliedIndex, 400)
            try engine.close()
        }
    }
}
