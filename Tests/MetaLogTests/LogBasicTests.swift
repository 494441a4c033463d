@testable import MetaLog
import XCTest

final class LogBasicTests: XCTestCase {
    /// `append(contentsOf:)` copies built and read batches' entries (term, kind, payload) after the
    /// batch's own; the combined batch appends and reads back exactly.
    func testAppendContentsOfCombinesBuiltAndReadBatches() throws {
        let source = try Log(directory: makeTemporaryDirectory(self))
        var built = EntryBatch()
        for k in 0..<5 { built.append(term: 2, kind: UInt8(k), payload: Array(repeating: UInt8(k), count: 3 * k)) }
        try source.append(built)
        let read = try source.read(from: 3, maxCount: 3)  // entries 3...5, a batch that came from a read
        XCTAssertEqual(read.firstIndex, 3)

        var combined = EntryBatch()
        combined.append(term: 1, payload: [9, 9])
        combined.append(contentsOf: built)
        combined.append(contentsOf: read)
        combined.append(contentsOf: EntryBatch())
        XCTAssertEqual(combined.count, 1 + 5 + 3)
        XCTAssertEqual(combined.payloadBytes, 2 + built.payloadBytes + read.payloadBytes)
        XCTAssertEqual(combined.encodedBytes, built.encodedBytes + read.encodedBytes + SegmentFormat.frameSize(2))

        let target = try Log(directory: makeTemporaryDirectory(self))
        XCTAssertEqual(try target.append(combined), 1...9)
        var expected: [(UInt64, UInt8, [UInt8])] = [(1, 0, [9, 9])]
        for k in 0..<5 { expected.append((2, UInt8(k), Array(repeating: UInt8(k), count: 3 * k))) }
        for k in 2..<5 { expected.append((2, UInt8(k), Array(repeating: UInt8(k), count: 3 * k))) }
        for (n, e) in expected.enumerated() {
            XCTAssertEqual(try target.entry(at: UInt64(n + 1)),
                           Entry(index: UInt64(n + 1), term: e.0, kind: e.1, payload: e.2), "entry \(n + 1)")
        }
        try source.close()
        try target.close()
    }

    func testNewLogIsEmpty() throws {
        let log = try Log(directory: makeTemporaryDirectory(self))
        XCTAssertEqual(log.firstIndex, 1)
        XCTAssertEqual(log.lastIndex, 0)
        XCTAssertEqual(log.recovery, RecoveryReport(segments: 0, tornTail: nil))
        assertThrows(.unavailable(index: 1, lastIndex: 0)) { try log.entry(at: 1) }
        XCTAssertEqual(log.hardState, HardState())
        try log.close()
    }

    func testAppendReadAndReopen() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log? = try Log(directory: directory)
        XCTAssertEqual(try log!.append(makeBatch(first: 1, count: 10, term: 3)), 1...10)
        XCTAssertEqual(try log!.append(makeBatch(first: 11, count: 5, term: 4), at: 11), 11...15)
        assertThrows(.nonContiguous(expected: 16, found: 20)) { try log!.append(makeBatch(first: 20, count: 1), at: 20) }
        for index in UInt64(1)...15 {
            let entry = try log!.entry(at: index)
            XCTAssertEqual(entry, Entry(index: index, term: index <= 10 ? 3 : 4, kind: UInt8(index), payload: testPayload(index)))
        }
        XCTAssertEqual(try log!.term(at: 12), 4)
        assertThrows(.unavailable(index: 16, lastIndex: 15)) { try log!.term(at: 16) }
        try log!.close()
        assertThrows(.closed) { try log!.entry(at: 1) }
        log = nil
        let reopened = try Log(directory: directory)
        XCTAssertEqual(reopened.lastIndex, 15)
        XCTAssertEqual(try reopened.entry(at: 7).payload, testPayload(7))
        XCTAssertEqual(reopened.recovery, RecoveryReport(segments: 1, tornTail: nil))
    }

    func testRangeReadsRespectCountAndByteBudget() throws {
        let log = try Log(directory: makeTemporaryDirectory(self), options: LogOptions(segmentBytes: 4096))
        for i in 0..<10 { try log.append(makeBatch(first: UInt64(i * 10 + 1), count: 10, size: 100)) }
        XCTAssertGreaterThan(log.segmentCount, 2)
        let all = try log.read(from: 1)
        XCTAssertEqual(all.count, 100)
        XCTAssertEqual(all.firstIndex, 1)
        XCTAssertEqual(all.payloadBytes, 100 * 100)
        let some = try log.read(from: 5, maxCount: 7)
        XCTAssertEqual(some.count, 7)
        XCTAssertEqual(some.header(at: 6), EntryHeader(index: 11, term: 1, kind: 11))
        let budget = try log.read(from: 20, maxBytes: 350)
        XCTAssertEqual(budget.count, 3)
        let tiny = try log.read(from: 20, maxBytes: 1)
        XCTAssertEqual(tiny.count, 1, "always at least one entry")
        tiny.withPayload(at: 0) { XCTAssertEqual([UInt8]($0), testPayload(20, size: 100)) }
        assertThrows(.unavailable(index: 101, lastIndex: 100)) { try log.read(from: 101) }
    }

    func testRotationSealsSegmentsWithFooters() throws {
        let directory = makeTemporaryDirectory(self)
        do {
            let log = try Log(directory: directory, options: LogOptions(segmentBytes: 8192, durability: .manual))
            for i in 0..<50 { try log.append(makeBatch(first: UInt64(i * 10 + 1), count: 10, size: 64)) }
            try log.close()
        }
        let files = segmentFiles(directory)
        XCTAssertGreaterThan(files.count, 5)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 8192))
        XCTAssertEqual(log.lastIndex, 500)
        XCTAssertEqual(log.segmentCount, files.count)
        for index in UInt64(1)...500 { XCTAssertEqual(try log.entry(at: index).payload, testPayload(index, size: 64)) }
        try log.close()
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.firstIndex, 1)
        XCTAssertEqual(report.lastIndex, 500)
        XCTAssertEqual(report.segments.filter(\.sealed).count, files.count - 1)
    }

    func testOversizedBatchGetsItsOwnSegment() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        try log.append(makeBatch(first: 1, count: 2, size: 10))
        try log.append(makeBatch(first: 3, count: 3, size: 5000))
        try log.append(makeBatch(first: 6, count: 1, size: 10))
        try log.close()
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        XCTAssertEqual(reopened.lastIndex, 6)
        XCTAssertEqual(try reopened.entry(at: 4).payload, testPayload(4, size: 5000))
    }

    func testHardStateRoundTripsAndSurvivesReopen() throws {
        let directory = makeTemporaryDirectory(self)
        do {
            let log = try Log(directory: directory)
            try log.saveHardState(HardState(term: 5, vote: 2, commit: 9, context: [1, 2, 3]))
            try log.saveHardState(HardState(term: 6, vote: 3, commit: 10, context: Array(repeating: 7, count: 300)))
            try log.close()
        }
        let log = try Log(directory: directory)
        XCTAssertEqual(log.hardState, HardState(term: 6, vote: 3, commit: 10, context: Array(repeating: 7, count: 300)))
    }

    func testOutOfRangeOptionsAndEmptyBatchesAreRejected() throws {
        let directory = makeTemporaryDirectory(self)
        assertThrows(.invalidArgument("segmentBytes 100 is outside 4 KiB ... 2 GiB")) {
            try Log(directory: directory, options: LogOptions(segmentBytes: 100))
        }
        let log = try Log(directory: directory)
        assertThrows(.invalidArgument("cannot append an empty batch")) { try log.append(EntryBatch()) }
        XCTAssertEqual(log.lastIndex, 0)
    }

    func testSecondOpenIsLocked() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory)
        assertThrows(.locked(directory: directory)) { try Log(directory: directory) }
        try log.close()
        XCTAssertNoThrow(try Log(directory: directory).close())
    }

    func testTruncateAndRemovePrefix() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        for i in 0..<20 { try log.append(makeBatch(first: UInt64(i * 10 + 1), count: 10, size: 40)) }
        XCTAssertGreaterThan(log.segmentCount, 3)
        try log.truncate(after: 150)
        XCTAssertEqual(log.lastIndex, 150)
        try log.append(makeBatch(first: 151, count: 3, term: 2, size: 40))
        XCTAssertEqual(try log.term(at: 152), 2)
        try log.removePrefix(through: 100)
        XCTAssertEqual(log.firstIndex, 101)
        assertThrows(.compacted(index: 100, firstIndex: 101)) { try log.entry(at: 100) }
        assertThrows(.compacted(index: 50, firstIndex: 101)) { try log.truncate(after: 50) }
        try log.close()
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        XCTAssertEqual(reopened.firstIndex, 101)
        XCTAssertEqual(reopened.lastIndex, 153)
        XCTAssertEqual(try reopened.term(at: 153), 2)
        try reopened.removePrefix(through: 1000)
        XCTAssertEqual(reopened.firstIndex, 1001)
        XCTAssertEqual(reopened.lastIndex, 1000)
        XCTAssertEqual(try reopened.append(makeBatch(first: 1001, count: 1)), 1001...1001)
        try reopened.close()
        let again = try Log(directory: directory)
        XCTAssertEqual(again.firstIndex, 1001)
        XCTAssertEqual(again.lastIndex, 1001)
        XCTAssertEqual(try again.entry(at: 1001).payload, testPayload(1001))
    }
}
