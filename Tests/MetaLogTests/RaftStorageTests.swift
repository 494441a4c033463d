import Foundation
@testable import MetaLog
import XCTest

/// The Raft storage contract (etcd raft `Storage`, hashicorp/raft `LogStore`/`StableStore`).
final class RaftStorageTests: XCTestCase {
    private func open(_ directory: String, _ fs: FaultyFileSystem = FaultyFileSystem(), segmentBytes: Int = 64 << 10,
                      durability: Durability = .syncEveryAppend, protectCommitted: Bool = false) throws -> Log {
        var options = LogOptions(segmentBytes: segmentBytes, durability: durability, protectCommitted: protectCommitted)
        options.fileSystem = fs
        return try Log(directory: directory, options: options)
    }

    private func batch(terms: [UInt64], first: UInt64, size: Int = 40) -> EntryBatch {
        var batch = EntryBatch()
        for (k, term) in terms.enumerated() { batch.append(term: term, payload: testPayload(first + UInt64(k), size: size)) }
        return batch
    }

    /// Appends entries with `terms` from `first` on, four per call (so small segments rotate).
    private func appendInSmallBatches(_ log: Log, terms: [UInt64], first: UInt64, size: Int = 40) throws {
        var position = 0
        while position < terms.count {
            let count = min(4, terms.count - position)
            try log.append(batch(terms: Array(terms[position..<(position + count)]), first: first + UInt64(position), size: size))
            position += count
        }
    }

    /// term(at:) answers from memory: a payload damaged on disk fails `entry(at:)` but not `term(at:)`.
    func testTermAtComesFromMemoryNotFromTheFrames() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try open(directory)
        try log.append(batch(terms: [1, 1, 2, 2, 2, 5], first: 1))
        XCTAssertEqual(try (0...6).map { try log.term(at: $0) }, [0, 1, 1, 2, 2, 2, 5])
        assertThrows(.unavailable(index: 7, lastIndex: 6)) { try log.term(at: 7) }
        // Damage entry 4's payload in the file (the mapping sees it).
        let path = directory + "/" + segmentFiles(directory)[0]
        let offset = Int(log.segments[0].offsets[3]) + SegmentFormat.frameHeaderSize
        let fd = Glibc.open(path, O_RDWR)
        var byte: UInt8 = 0xFF
        XCTAssertEqual(pwrite(fd, &byte, 1, off_t(offset)), 1)
        Glibc.close(fd)
        XCTAssertNotNil(corruption { try log.entry(at: 4) })
        XCTAssertEqual(try log.term(at: 4), 2)
    }

    /// The boundary term of `firstIndex - 1` after removePrefix, durable across reopen; below it: compacted.
    func testBoundaryTermAfterRemovePrefixIsDurable() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log! = try open(directory, segmentBytes: 4096)
        var terms: [UInt64] = []
        for i in 0..<200 { terms.append(UInt64(1 + i / 30)) }
        try appendInSmallBatches(log, terms: terms, first: 1)
        XCTAssertGreaterThan(log.segmentCount, 3)
        try log.removePrefix(through: 95)
        XCTAssertEqual(try log.term(at: 95), terms[94])
        assertThrows(.compacted(index: 94, firstIndex: 96)) { try log.term(at: 94) }
        try log.close()
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.firstIndex, 96)
        XCTAssertEqual(try log.term(at: 95), terms[94])
        for i in UInt64(96)...200 { XCTAssertEqual(try log.term(at: i), terms[Int(i) - 1], "index \(i)") }
        // Past the end: the log continues empty and the whole segment set goes; the file keeps the term.
        try log.removePrefix(through: 200)
        try log.close()
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.firstIndex, 201)
        XCTAssertEqual(try log.term(at: 200), terms[199])
    }

    /// Term runs rebuilt at open from sealed segments, both the binary search (terms never decrease) and the
    /// full header read (a segment whose terms go down), agree with every frame.
    func testTermTableRebuiltAtOpenMatchesEveryFrame() throws {
        for decreasing in [false, true] {
            let directory = makeTemporaryDirectory(self)
            var log: Log! = try open(directory, segmentBytes: 4096)
            var rng = SplitMix64(state: decreasing ? 2 : 1)
            var term: UInt64 = 1
            var next: UInt64 = 1
            for _ in 0..<60 {
                if UInt64.random(in: 0..<4, using: &rng) == 0 { term = decreasing ? UInt64.random(in: 1...9, using: &rng) : term + 1 }
                let count = Int.random(in: 1...5, using: &rng)
                try log.append(batch(terms: Array(repeating: term, count: count), first: next))
                next += UInt64(count)
            }
            try log.close()
            log = try open(directory, segmentBytes: 4096)
            XCTAssertGreaterThan(log.segmentCount, 3)
            for i in UInt64(1)..<next { XCTAssertEqual(try log.term(at: i), try log.entry(at: i).term, "index \(i) decreasing \(decreasing)") }
        }
    }

    /// durableIndex lags lastIndex until a sync in manual durability; equals it after a synced append.
    func testDurableIndex() throws {
        let directory = makeTemporaryDirectory(self)
        let manual = try open(directory, durability: .manual)
        XCTAssertEqual(manual.durableIndex, 0)
        try manual.append(makeBatch(first: 1, count: 5))
        XCTAssertEqual(manual.lastIndex, 5)
        XCTAssertEqual(manual.durableIndex, 0)
        try manual.sync()
        XCTAssertEqual(manual.durableIndex, 5)
        try manual.close()
        let synced = try open(directory)
        XCTAssertEqual(synced.durableIndex, 5)
        try synced.append(makeBatch(first: 6, count: 2))
        XCTAssertEqual(synced.durableIndex, 7)
    }

    /// A conflicting suffix in the active segment is replaced in one call with one fdatasync, and stays
    /// replaced after reopening (the truncation record).
    func testConflictOverwriteInOneCallAndOneSync() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        var log: Log! = try open(directory, fs)
        try log.append(batch(terms: Array(repeating: 1, count: 10), first: 1))
        let syncs = fs.syncCount
        let range = try log.append(batch(terms: [2, 2, 2], first: 6, size: 70), at: 6, hardState: nil)
        XCTAssertEqual(range, 6...8)
        XCTAssertEqual(fs.syncCount - syncs, 1, "one fdatasync")
        XCTAssertEqual(log.lastIndex, 8)
        XCTAssertEqual(log.durableIndex, 8)
        XCTAssertEqual(try (5...8).map { try log.term(at: $0) }, [1, 2, 2, 2])
        for reopenWithoutClose in [true, false] {
            if reopenWithoutClose { log = nil } else { try log.close() }
            log = try open(directory)
            XCTAssertEqual(log.lastIndex, 8)
            for i in UInt64(1)...5 { XCTAssertEqual(try log.entry(at: i), Entry(index: i, term: 1, payload: testPayload(i, size: 40))) }
            for i in UInt64(6)...8 { XCTAssertEqual(try log.entry(at: i), Entry(index: i, term: 2, payload: testPayload(i, size: 70))) }
            XCTAssertEqual(try (5...8).map { try log.term(at: $0) }, [1, 2, 2, 2])
        }
        try log.close()
        XCTAssertEqual(try LogInspector.verify(directory: directory).problems, [])
        log = try open(directory)
        // Gaps and compacted positions are refused.
        assertThrows(.nonContiguous(expected: 9, found: 10)) { try log.append(makeBatch(first: 10, count: 1), at: 10, hardState: nil) }
        try log.removePrefix(through: 3)
        assertThrows(.nonContiguous(expected: 9, found: 3)) { try log.append(makeBatch(first: 3, count: 1), at: 3, hardState: nil) }
    }

    /// A conflict reaching into a sealed segment: segments after it go, then the new entries follow.
    func testConflictOverwriteAcrossSegments() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log! = try open(directory, segmentBytes: 4096)
        try appendInSmallBatches(log, terms: Array(repeating: 1, count: 150), first: 1)
        XCTAssertGreaterThan(log.segmentCount, 2)
        try log.append(batch(terms: [3, 3], first: 20), at: 20, hardState: HardState(term: 3, vote: 2, commit: 19))
        XCTAssertEqual(log.lastIndex, 21)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.lastIndex, 21)
        XCTAssertEqual(log.hardState, HardState(term: 3, vote: 2, commit: 19))
        XCTAssertEqual(try log.entry(at: 21), Entry(index: 21, term: 3, payload: testPayload(21, size: 40)))
        XCTAssertEqual(try log.term(at: 19), 1)
    }

    /// Entries and hard state durable together with one fdatasync; saveHardState is one write + one sync.
    func testHardStateRidesWithEntriesInOneSync() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        var log: Log! = try open(directory, fs)
        try log.append(makeBatch(first: 1, count: 3))
        var syncs = fs.syncCount
        var writes = fs.writeCount
        try log.append(makeBatch(first: 4, count: 2), at: 4, hardState: HardState(term: 1, vote: 7, commit: 3, context: [1, 2, 3]))
        XCTAssertEqual(fs.syncCount - syncs, 1)
        syncs = fs.syncCount
        writes = fs.writeCount
        try log.saveHardState(HardState(term: 2, vote: 0, commit: 5))
        XCTAssertEqual(fs.syncCount - syncs, 1, "one fdatasync")
        XCTAssertEqual(fs.writeCount - writes, 1, "one write")
        XCTAssertEqual(log.hardState, HardState(term: 2, vote: 0, commit: 5))
        log = nil  // a process crash
        log = try open(directory)
        XCTAssertEqual(log.hardState, HardState(term: 2, vote: 0, commit: 5))
        try log.close()
        XCTAssertEqual(try LogInspector.hardState(directory: directory), HardState(term: 2, vote: 0, commit: 5))
        XCTAssertNil(FileManager.default.contents(atPath: directory + "/hardstate"))
    }

    /// The newest hard state survives rotation (copied into each new segment), a truncate that deletes the
    /// segment holding it, and a removePrefix that empties the log (checkpointed to its file first).
    func testHardStateSurvivesRotationTruncateAndRemovePrefix() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log! = try open(directory, segmentBytes: 4096)
        let saved = HardState(term: 4, vote: 1, commit: 2, context: Array(repeating: 7, count: 50))
        try log.append(makeBatch(first: 1, count: 5))
        try log.saveHardState(saved)
        try appendInSmallBatches(log, terms: Array(repeating: 1, count: 200), first: 6)
        XCTAssertGreaterThan(log.segmentCount, 3)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.hardState, saved)
        try log.truncate(after: 3)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.hardState, saved)
        XCTAssertEqual(log.lastIndex, 3)
        try log.removePrefix(through: 10)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.hardState, saved)
        XCTAssertEqual(log.segmentCount, 0)
    }

    /// protectCommitted: truncate and conflict overwrite refuse to drop an entry at or below the commit index.
    func testProtectCommittedRefusesToDropCommittedEntries() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try open(directory, protectCommitted: true)
        try log.append(batch(terms: Array(repeating: 1, count: 10), first: 1))
        try log.saveHardState(HardState(term: 1, vote: 1, commit: 5))
        assertThrows(.wouldTruncateCommitted(index: 5, commit: 5)) { try log.truncate(after: 4) }
        assertThrows(.wouldTruncateCommitted(index: 3, commit: 5)) { try log.append(batch(terms: [2], first: 3), at: 3, hardState: nil) }
        XCTAssertEqual(log.lastIndex, 10)
        try log.truncate(after: 5)
        XCTAssertEqual(log.lastIndex, 5)
        XCTAssertEqual(try log.append(batch(terms: [2], first: 6), at: 6, hardState: nil), 6...6)
        // Off by default.
        let other = try open(makeTemporaryDirectory(self))
        try other.append(makeBatch(first: 1, count: 4))
        try other.saveHardState(HardState(term: 1, vote: 1, commit: 4))
        try other.truncate(after: 1)
        XCTAssertEqual(other.lastIndex, 1)
    }

    /// reset(after:term:) drops everything, continues at index + 1 with the boundary term, durably.
    func testResetForASnapshotInstall() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log! = try open(directory, segmentBytes: 4096)
        try log.append(makeBatch(first: 1, count: 120))
        try log.saveHardState(HardState(term: 1, vote: 1, commit: 100))
        try log.reset(after: 50, term: 9)
        XCTAssertEqual(log.firstIndex, 51)
        XCTAssertEqual(log.lastIndex, 50)
        XCTAssertEqual(try log.term(at: 50), 9)
        assertThrows(.unavailable(index: 51, lastIndex: 50)) { try log.entry(at: 51) }
        try log.append(batch(terms: [9, 9], first: 51), at: 51, hardState: nil)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.firstIndex, 51)
        XCTAssertEqual(log.lastIndex, 52)
        XCTAssertEqual(try log.term(at: 50), 9)
        XCTAssertEqual(try log.entry(at: 52), Entry(index: 52, term: 9, payload: testPayload(52, size: 40)))
        XCTAssertEqual(log.hardState, HardState(term: 1, vote: 1, commit: 100))
        try log.reset(after: 500, term: 11)
        log = nil
        log = try open(directory, segmentBytes: 4096)
        XCTAssertEqual(log.firstIndex, 501)
        XCTAssertEqual(try log.term(at: 500), 11)
    }

    /// A thousand concurrent async proposers in group commit: every one gets its own contiguous range,
    /// they share fdatasyncs, and everything reads back.
    func testAppendAsyncThousandProposersShareSyncs() async throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        fs.syncDelayMicroseconds = 200
        let log = try open(directory, fs, durability: .groupCommit)
        let syncsBefore = fs.syncCount
        let ranges = try await withThrowingTaskGroup(of: (Int, ClosedRange<UInt64>).self) { group in
            for proposer in 0..<1000 {
                group.addTask {
                    var batch = EntryBatch()
                    batch.append(term: 1, kind: UInt8(proposer % 256), payload: StandardPayload.make(index: UInt64(proposer), size: 16))
                    return (proposer, try await log.appendAsync(batch))
                }
            }
            var all: [(Int, ClosedRange<UInt64>)] = []
            for try await result in group { all.append(result) }
            return all
        }
        XCTAssertEqual(ranges.count, 1000)
        XCTAssertEqual(Set(ranges.map { $0.1.lowerBound }), Set(1...1000))
        XCTAssertEqual(log.lastIndex, 1000)
        XCTAssertEqual(log.durableIndex, 1000)
        XCTAssertLessThan(fs.syncCount - syncsBefore, 1000, "proposers shared fdatasyncs")
        for (proposer, range) in ranges {
            XCTAssertEqual(try log.entry(at: range.lowerBound).payload, StandardPayload.make(index: UInt64(proposer), size: 16))
        }
        // With a hard state: it rides with the entries.
        var batch = EntryBatch()
        batch.append(term: 2, payload: [1])
        let last = try await log.appendAsync(batch, at: 1001, hardState: HardState(term: 2, vote: 1, commit: 1000))
        XCTAssertEqual(last, 1001...1001)
        XCTAssertEqual(log.hardState, HardState(term: 2, vote: 1, commit: 1000))
    }

    /// Async and synchronous callers in one group-commit queue: when a synchronous leader returns with only
    /// suspended async callers queued, a leader task is started for them (nobody hangs).
    func testAppendAsyncMixedWithSynchronousCallers() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        fs.syncDelayMicroseconds = 300
        let log = try open(directory, fs, durability: .groupCommit)
        let finished = DispatchSemaphore(value: 0)
        let asyncDone = Counter()
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for k in 0..<300 {
                    group.addTask {
                        var batch = EntryBatch()
                        batch.append(term: 1, payload: [UInt8(k & 0xFF)])
                        if (try? await log.appendAsync(batch)) != nil { asyncDone.increment() }
                    }
                }
            }
            finished.signal()
        }
        onThreads(4) { _ in
            for _ in 0..<25 { _ = try? log.append(makeBatch(first: 0, count: 1)) }
        }
        XCTAssertEqual(finished.wait(timeout: .now() + 60), .success, "async callers were left waiting")
        XCTAssertEqual(asyncDone.value, 300)
        XCTAssertEqual(log.lastIndex, 400)
        XCTAssertEqual(log.durableIndex, 400)
    }
}
