import Foundation
@testable import MetaLog
import XCTest

/// `forEachEntry`: the zero-copy scan recovery and replay use.
final class ScanTests: XCTestCase {
    /// Scans `log` from `from` through `through`; returns what `body` saw (index, term, kind, payload) and the
    /// returned index. `stopAfter` entries make `body` return false.
    private func scan(_ log: Log, from: UInt64, through: UInt64 = .max, stopAfter: Int = .max) throws
        -> (seen: [(EntryHeader, [UInt8])], end: UInt64)
    {
        var seen: [(EntryHeader, [UInt8])] = []
        let end = try log.forEachEntry(from: from, through: through) { header, payload in
            seen.append((header, [UInt8](payload)))
            return seen.count < stopAfter
        }
        return (seen, end)
    }

    private func assertEntries(_ seen: [(EntryHeader, [UInt8])], _ range: ClosedRange<UInt64>, term: (UInt64) -> UInt64 = { _ in 1 },
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(seen.map { $0.0.index }, Array(range), file: file, line: line)
        for (header, payload) in seen {
            XCTAssertEqual(header, EntryHeader(index: header.index, term: term(header.index), kind: UInt8(truncatingIfNeeded: header.index)),
                           file: file, line: line)
            XCTAssertEqual(payload, testPayload(header.index), "payload of \(header.index)", file: file, line: line)
        }
    }

    /// Every start and end across segment boundaries, sync markers between entries and the groups of four:
    /// exactly the entries asked for, and the index after the last one.
    func testScansExactRangesAcrossSegmentsAndMarkers() throws {
        let log = try Log(directory: makeTemporaryDirectory(self), options: LogOptions(segmentBytes: 4096, durability: .manual))
        var next: UInt64 = 1
        for size in [1, 3, 4, 5, 7, 9, 2, 11, 6, 13, 1, 3, 4, 5, 7, 9, 2, 11, 6, 13, 1, 3, 4, 5, 7, 9, 2, 11, 6, 13] {
            try log.append(makeBatch(first: next, count: size))
            next += UInt64(size)
            try log.sync()  // a sync marker after each batch: frames of one scan group are not adjacent
        }
        let last = next - 1
        XCTAssertEqual(log.lastIndex, last)
        XCTAssertGreaterThan(log.segmentCount, 2)
        let markers = log.segments.reduce(0) { n, segment in
            n + zip(segment.offsets, segment.offsets.dropFirst()).filter { offset, following in
                Int(following) - Int(offset) > SegmentFormat.frameSize(Frame.payloadLength(segment.map + Int(offset)))
            }.count
        }
        XCTAssertGreaterThan(markers, 20, "sync markers sit between entry frames")
        for from in 1...last {
            for through in [from, from + 1, from + 3, from + 4, from + 9, last, UInt64.max] where through >= from {
                let stop = min(through, last)
                let (seen, end) = try scan(log, from: from, through: through)
                assertEntries(seen, from...stop)
                XCTAssertEqual(end, stop + 1, "from \(from) through \(through)")
            }
        }
        let (seen, end) = try scan(log, from: 3, stopAfter: 6)
        assertEntries(seen, 3...8)
        XCTAssertEqual(end, 9, "returns the index after the entry whose body said stop")
    }

    func testStartBoundsAndClosedLog() throws {
        let log = try Log(directory: makeTemporaryDirectory(self), options: LogOptions(segmentBytes: 4096))
        try log.append(makeBatch(first: 1, count: 200))
        let (none, end) = try scan(log, from: 201)
        XCTAssertTrue(none.isEmpty)
        XCTAssertEqual(end, 201, "lastIndex + 1 visits nothing")
        assertThrows(.unavailable(index: 202, lastIndex: 200)) { try scan(log, from: 202) }
        try log.removePrefix(through: 50)
        assertThrows(.compacted(index: 50, firstIndex: 51)) { try scan(log, from: 50) }
        let (rest, restEnd) = try scan(log, from: 51)
        assertEntries(rest, 51...200)
        XCTAssertEqual(restEnd, 201)
        try log.close()
        assertThrows(.closed) { try scan(log, from: 51) }
    }

    /// More entries than one hold of the read lock takes (4,096), with an error from `body` mid-way: the
    /// scan carries on across stretches, and `body`'s error ends it.
    func testLongScansSpanSeveralLockStretchesAndPassBodysError() throws {
        let log = try Log(directory: makeTemporaryDirectory(self), options: LogOptions(segmentBytes: 64 << 10, durability: .manual))
        let count = 3 * Log.scanStretchEntries + 5
        var next: UInt64 = 1
        while next <= UInt64(count) {
            let n = min(1000, count - Int(next) + 1)
            try log.append(makeBatch(first: next, count: n))
            next += UInt64(n)
        }
        let (seen, end) = try scan(log, from: 1)
        assertEntries(seen, 1...UInt64(count))
        XCTAssertEqual(end, UInt64(count) + 1)

        struct Stop: Error, Equatable { let index: UInt64 }
        var visited: UInt64 = 0
        XCTAssertThrowsError(try log.forEachEntry(from: 2) { header, _ in
            visited = header.index
            if header.index == 5000 { throw Stop(index: header.index) }
            return true
        }) { XCTAssertEqual($0 as? Stop, Stop(index: 5000)) }
        XCTAssertEqual(visited, 5000)
        XCTAssertEqual(try log.entry(at: 5001).payload, testPayload(5001), "the lock was let go after body's error")
    }

    /// A scan gives back entries appended and truncated by another thread between its stretches only as a
    /// whole log state: every entry it sees is one the log held, in order, with no gap.
    func testScanWhileAnotherThreadAppendsAndTruncates() throws {
        let log = try Log(directory: makeTemporaryDirectory(self), options: LogOptions(segmentBytes: 32 << 10, durability: .manual))
        try log.append(makeBatch(first: 1, count: 9000))
        let writerDone = DispatchSemaphore(value: 0)
        let stop = Counter()
        Thread.detachNewThread {
            var next: UInt64 = 9001
            while stop.value == 0 {
                do {
                    try log.append(makeBatch(first: next, count: 5))
                    next += 5
                    if next % 50 == 1 { try log.truncate(after: next - 3); next -= 2 }
                } catch {
                    XCTFail("writer: \(error)")
                    break
                }
            }
            writerDone.signal()
        }
        for _ in 0..<20 {
            var expected: UInt64 = 1
            var wrong = 0
            let end = try log.forEachEntry(from: 1, through: 12000) { header, payload in
                if header.index != expected || !payload.elementsEqual(testPayload(header.index)) { wrong += 1 }
                expected += 1
                return true
            }
            XCTAssertEqual(wrong, 0)
            XCTAssertEqual(end, expected)
            XCTAssertGreaterThan(end, 9000)
        }
        stop.increment()
        writerDone.wait()
    }
}
