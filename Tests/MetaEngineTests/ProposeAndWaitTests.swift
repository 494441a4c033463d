import MetaEngine
import MetaLog
import XCTest

/// `proposeAndWait`: one call that returns once the entry is durable and applied, with its result.
final class ProposeAndWaitTests: XCTestCase {
    /// 16 concurrent proposers, 20 proposals each on their own counter: every call gets its own index,
    /// the indexes cover the log exactly, and each result is that counter's running value (so it is the
    /// result of this entry, applied in order, not of another proposer's).
    func testConcurrentProposersEachGetTheirOwnAppliedResult() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        let answers = try await withThrowingTaskGroup(of: [(UInt64, UInt64?)].self) { group in
            for proposer in 0..<16 {
                group.addTask {
                    var got: [(UInt64, UInt64?)] = []
                    for _ in 0..<20 {
                        var batch = EntryBatch()
                        batch.append(term: 1, payload: CounterMachine.command(key: UInt64(proposer), delta: 1))
                        let (indexes, result) = try await engine.proposeAndWait(batch)
                        XCTAssertEqual(indexes.count, 1)
                        XCTAssertGreaterThanOrEqual(engine.appliedIndex, indexes.upperBound, "returned before applied")
                        got.append((indexes.upperBound, result ?? nil))
                    }
                    // This proposer's counter went 1, 2, ..., 20.
                    XCTAssertEqual(got.map { $0.1 }, (1...20).map { Optional(UInt64($0)) }, "proposer \(proposer)")
                    return got
                }
            }
            var all: [(UInt64, UInt64?)] = []
            for try await g in group { all += g }
            return all
        }
        XCTAssertEqual(answers.map { $0.0 }.sorted(), Array(1...320))
        XCTAssertEqual(engine.read { $0.counters }, Dictionary(uniqueKeysWithValues: (0..<16).map { (UInt64($0), UInt64(20)) }))
        try engine.close()
    }

    /// Proposals queued together are written as one append: each caller's range must still hold exactly
    /// its own entries, in its own order, with its own terms and kinds (batches of 1 to 4 entries from 12
    /// concurrent proposers).
    func testProposalsWrittenTogetherKeepTheirOwnEntries() async throws {
        let dir = makeTemporaryDirectory(self)
        var o = quietOptions()
        o.commitOnDurable = true
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        func payload(_ proposer: Int, _ seq: Int, _ k: Int) -> [UInt8] {
            Array("p\(proposer) s\(seq) e\(k)".utf8)
        }
        let ranges = try await withThrowingTaskGroup(of: [(Int, Int, ClosedRange<UInt64>)].self) { group in
            for proposer in 0..<12 {
                group.addTask {
                    var got: [(Int, Int, ClosedRange<UInt64>)] = []
                    for seq in 0..<25 {
                        var batch = EntryBatch()
                        for k in 0..<(1 + (proposer + seq) % 4) {
                            batch.append(term: 1, kind: UInt8(100 + proposer), payload: payload(proposer, seq, k))
                        }
                        let (indexes, _) = try await engine.proposeAndWait(batch)
                        XCTAssertEqual(indexes.count, batch.count)
                        got.append((proposer, seq, indexes))
                    }
                    return got
                }
            }
            var all: [(Int, Int, ClosedRange<UInt64>)] = []
            for try await g in group { all += g }
            return all
        }
        var covered: [UInt64] = []
        for (proposer, seq, range) in ranges {
            for (k, index) in range.enumerated() {
                let e = try engine.entry(at: index)
                XCTAssertEqual(e.payload, payload(proposer, seq, k), "entry \(index)")
                XCTAssertEqual(e.kind, UInt8(100 + proposer), "entry \(index)")
                XCTAssertEqual(e.term, 1)
                covered.append(index)
            }
        }
        XCTAssertEqual(covered.sorted(), Array(1...engine.lastIndex), "the ranges tile the log")
        var expectedEntries: UInt64 = 0
        for proposer in 0..<12 {
            for seq in 0..<25 { expectedEntries += UInt64(1 + (proposer + seq) % 4) }
        }
        XCTAssertEqual(engine.lastIndex, expectedEntries)
        try engine.close()
    }

    /// Without commitOnDurable the call waits for the host's commit; errors come back typed.
    func testWaitsForTheHostsCommitAndReportsErrors() async throws {
        let dir = makeTemporaryDirectory(self)
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: quietOptions())
        let pending = Task { try await engine.proposeAndWait(counterBatch(1...3, term: 1)) }
        // The entries become durable but stay unapplied until the commit index reaches them.
        try waitDurable(engine, 3)
        XCTAssertEqual(engine.appliedIndex, 0)
        engine.commit(to: 3)
        let (indexes, result) = try await pending.value
        XCTAssertEqual(indexes, 1...3)
        XCTAssertEqual(result, .some(3), "the result of the batch's last entry (key 3, delta 3)")

        do {
            _ = try await engine.proposeAndWait(EntryBatch())
            XCTFail("expected .invalidArgument")
        } catch let e as EngineError {
            guard case .invalidArgument = e else { return XCTFail("got \(e)") }
        }
        try engine.close()
        do {
            _ = try await engine.proposeAndWait(counterBatch(4...4, term: 1))
            XCTFail("expected .closed")
        } catch let e as EngineError {
            XCTAssertEqual(e, .closed)
        }
    }

    /// Polls until `index` is durable (bounded; the writer syncs within milliseconds).
    private func waitDurable(_ engine: MetaEngine<CounterMachine>, _ index: UInt64) throws {
        for _ in 0..<2000 where engine.durableIndex < index { usleep(1000) }
        XCTAssertEqual(engine.durableIndex, index)
    }
}
