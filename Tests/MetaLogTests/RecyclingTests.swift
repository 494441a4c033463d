import Foundation
@testable import MetaLog
import XCTest

/// Segment recycling (`LogOptions.recycleSegments`): files of segments removePrefix drops become later
/// segments; their old frames are never read as entries, and what follows the new frames (zeros, then whole
/// old frames) is not taken for a torn write.
final class RecyclingTests: XCTestCase {
    private let segmentBytes = 8192

    /// The name of the spare holding the file of segment `id` (entries from `base`).
    private func spareName(_ id: UInt64, _ base: UInt64) -> String {
        "spare-" + SegmentFormat.fileName(id: id, baseIndex: base) + ".tmp"
    }

    /// The header field of a segment file: the previous segment's salt, 0 in a new file.
    private func previousSalt(_ path: String) -> UInt32 {
        readFile(path).withUnsafeBytes { SegmentFormat.previousSalt($0.baseAddress!) }
    }

    private func checkEntries(_ log: Log, _ range: ClosedRange<UInt64>, size: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(log.firstIndex, range.lowerBound, file: file, line: line)
        XCTAssertEqual(log.lastIndex, range.upperBound, file: file, line: line)
        try checkPayloads(log, range, size: size, file: file, line: line)
    }

    /// A log of 40 entries of 700 bytes over 8 KiB segments (10 per segment, 4 segments), then
    /// removePrefix(through: 30): three sealed segments go, two kept as spares.
    private func logWithSpares(_ directory: String, recycle: Int = 2) throws -> Log {
        var options = LogOptions(segmentBytes: segmentBytes)
        options.recycleSegments = recycle
        let log = try Log(directory: directory, options: options)
        for index in UInt64(1)...40 { try log.append(makeBatch(first: index, count: 1, size: 700)) }
        XCTAssertEqual(segmentFiles(directory).count, 4)
        try log.removePrefix(through: 30)
        return log
    }

    /// Appends 41...60 to a log made by `logWithSpares`: its two spares become the next two segments,
    /// the newest spare (2) first, and every entry reads back.
    private func appendIntoTheSpares(_ log: Log, _ directory: String, file: StaticString = #filePath, line: UInt = #line) throws {
        for index in UInt64(41)...60 { try log.append(makeBatch(first: index, count: 1, size: 700)) }
        XCTAssertEqual(spareFiles(directory), [], file: file, line: line)
        let files = segmentFiles(directory)
        XCTAssertEqual(files.count, 3, file: file, line: line)
        guard files.count == 3 else { return }
        XCTAssertEqual(previousSalt(directory + "/" + files[1]), SegmentFormat.salt(2), "newest spare first", file: file, line: line)
        XCTAssertEqual(previousSalt(directory + "/" + files[2]), SegmentFormat.salt(1), file: file, line: line)
        try checkEntries(log, 31...60, size: 700, file: file, line: line)
    }

    /// Opens the closed log again: no torn tail and exactly `range`.
    private func reopenAndCheck(_ directory: String, _ range: ClosedRange<UInt64>, file: StaticString = #filePath, line: UInt = #line) throws {
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
        XCTAssertNil(log.recovery.tornTail, file: file, line: line)
        try checkEntries(log, range, size: 700, file: file, line: line)
        try log.close()
    }

    func testRemovedSegmentsBecomeTheNextSegments() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try logWithSpares(directory)
        XCTAssertEqual(spareFiles(directory), [spareName(1, 1), spareName(2, 11)])
        XCTAssertEqual(segmentFiles(directory).count, 1)
        // The next two segments are the spares (their files keep their old frames after the new ones).
        try appendIntoTheSpares(log, directory)
        // A third new segment finds no spare: a new file.
        for index in UInt64(61)...70 { try log.append(makeBatch(first: index, count: 1, size: 700)) }
        XCTAssertEqual(previousSalt(directory + "/" + segmentFiles(directory).last!), 0)
        try log.close()
        try reopenAndCheck(directory, 31...70)
    }

    /// Spares outlive close() and a crash: the next process rotates into them (their old frames' salt in
    /// the new headers) and every entry reads back exactly, before and after another restart.
    func testSparesSurviveARestart() throws {
        for crash in [false, true] {
            let directory = makeTemporaryDirectory(self, crash ? "crash" : "close")
            var log: Log? = try logWithSpares(directory)
            if crash { log = nil } else { try log!.close() }
            _ = log
            XCTAssertEqual(spareFiles(directory), [spareName(1, 1), spareName(2, 11)], "crash \(crash)")
            let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            XCTAssertEqual(spareFiles(directory).count, 2, "crash \(crash): opening keeps whole spares")
            try checkEntries(reopened, 31...40, size: 700)
            try appendIntoTheSpares(reopened, directory)
            XCTAssertEqual(reopened.recycledSegmentsForTesting, 2, "crash \(crash)")
            try reopened.close()
            try reopenAndCheck(directory, 31...60)
        }
    }

    /// Opening keeps a spare only when it is the whole sealed segment its name says, and at most
    /// `recycleSegments` of them (the newest); it deletes every other spare, so lowering the option gives
    /// the space back. A spare a crashed reuse left cut (no footer) or rewritten (another header) goes.
    func testOpeningKeepsOnlyWholeSparesUpToTheLimit() throws {
        func reopen(_ directory: String, recycle: Int) throws -> Log {
            var options = LogOptions(segmentBytes: segmentBytes)
            options.recycleSegments = recycle
            return try Log(directory: directory, options: options)
        }
        // At most `recycleSegments`, the newest.
        let fewer = makeTemporaryDirectory(self, "fewer")
        try logWithSpares(fewer).close()
        try reopen(fewer, recycle: 1).close()
        XCTAssertEqual(spareFiles(fewer), [spareName(2, 11)])
        try reopen(fewer, recycle: 0).close()
        XCTAssertEqual(spareFiles(fewer), [])

        // A spare cut inside its footer, as a reuse cut short by a crash leaves it.
        let cut = makeTemporaryDirectory(self, "cut")
        try logWithSpares(cut).close()
        let newest = cut + "/" + spareName(2, 11)
        let bytes = readFile(newest)
        writeFile(newest, Array(bytes[..<(bytes.count - 10)]))
        // A spare whose header names another segment than its file name (a rewritten header).
        try FileManager.default.moveItem(atPath: cut + "/" + spareName(1, 1), toPath: cut + "/" + spareName(1, 2))
        // A spare name of no segment.
        writeFile(cut + "/spare-1.tmp", bytes)
        let log = try reopen(cut, recycle: 4)
        XCTAssertEqual(spareFiles(cut), [], "every damaged or foreign spare is deleted")
        try checkEntries(log, 31...40, size: 700)
        for index in UInt64(41)...50 { try log.append(makeBatch(first: index, count: 1, size: 700)) }
        XCTAssertEqual(log.recycledSegmentsForTesting, 0)
        XCTAssertEqual(previousSalt(cut + "/" + segmentFiles(cut).last!), 0)
        try checkEntries(log, 31...50, size: 700)
        try log.close()
    }

    /// After every segment was removed, no segment is left to give the next id: the segments made after
    /// opening still get ids above every spare's, so a new segment never carries the salt of the old frames
    /// in the file it takes (with id 1 again, spare 1's frames would verify as its own). Checked through a
    /// crash in the recycled segment and a reopen.
    func testNewSegmentIdsStayAboveEverySparesId() throws {
        let directory = makeTemporaryDirectory(self)
        var options = LogOptions(segmentBytes: segmentBytes)
        options.recycleSegments = 1
        let log = try logWithSpares(directory, recycle: 1)
        try log.removePrefix(through: 40)
        try log.close()
        XCTAssertEqual(segmentFiles(directory), [])
        XCTAssertEqual(spareFiles(directory), [spareName(1, 1)])
        var reopened: Log? = try Log(directory: directory, options: options)
        XCTAssertEqual(reopened!.firstIndex, 41)
        XCTAssertEqual(reopened!.lastIndex, 40)
        for index in UInt64(41)...44 { try reopened!.append(makeBatch(first: index, count: 1, size: 333)) }
        XCTAssertEqual(reopened!.recycledSegmentsForTesting, 1)
        let files = segmentFiles(directory)
        XCTAssertEqual(files.map { SegmentFormat.parseFileName($0)?.id }, [2], "an id above spare 1's")
        XCTAssertEqual(previousSalt(directory + "/" + files[0]), SegmentFormat.salt(1))
        reopened = nil  // a crash: the old frames of spare 1 follow the new ones
        let again = try Log(directory: directory, options: options)
        XCTAssertNil(again.recovery.tornTail)
        XCTAssertEqual(again.lastIndex, 44)
        for index in UInt64(41)...44 { XCTAssertEqual(try again.entry(at: index).payload, testPayload(index, size: 333)) }
        try again.append(makeBatch(first: 45, count: 1, size: 333))
        try again.close()
    }

    /// Entries `range` read back with their indexes and the payloads of `size`.
    private func checkPayloads(_ log: Log, _ range: ClosedRange<UInt64>, size: Int, file: StaticString = #filePath, line: UInt = #line) throws {
        for index in range {
            let entry = try log.entry(at: index)
            XCTAssertEqual(entry.payload, testPayload(index, size: size), "entry \(index)", file: file, line: line)
            XCTAssertEqual(entry.index, index, file: file, line: line)
        }
    }

    /// truncate(after:) keeps the sealed segments it drops as spares (the active one is unlinked). A spare
    /// from a truncation holds old frames whose indexes lie above the base of the segment that reuses it
    /// (old 21...30 under new entries from 17 on): only their salt keeps them out. Every entry reads back
    /// with its new payload, after close and after a crash, and the log appends again.
    func testTruncatedSegmentsBecomeSpares() throws {
        for crash in [false, true] {
            let directory = makeTemporaryDirectory(self, crash ? "crash" : "close")
            var log: Log? = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            for index in UInt64(1)...40 { try log!.append(makeBatch(first: index, count: 1, size: 700)) }
            try log!.truncate(after: 15)
            XCTAssertEqual(spareFiles(directory), [spareName(3, 21)], "crash \(crash): the sealed segment past 15")
            XCTAssertEqual(segmentFiles(directory).count, 2)
            for index in UInt64(16)...40 { try log!.append(makeBatch(first: index, count: 1, size: 650)) }
            XCTAssertEqual(log!.recycledSegmentsForTesting, 1, "crash \(crash)")
            XCTAssertEqual(spareFiles(directory), [])
            let reused = segmentFiles(directory).filter { previousSalt(directory + "/" + $0) == SegmentFormat.salt(3) }
            XCTAssertEqual(reused.count, 1, "crash \(crash): one segment lives in segment 3's file")
            if let name = reused.first, let parsed = SegmentFormat.parseFileName(name) {
                XCTAssertLessThan(parsed.baseIndex, 21, "the reusing segment starts below the old frames' indexes")
            }
            try checkPayloads(log!, 1...15, size: 700)
            try checkPayloads(log!, 16...40, size: 650)
            if crash { log = nil } else { try log!.close() }
            _ = log
            XCTAssertNil(try LogInspector.verify(directory: directory).tornTailOffset, "crash \(crash)")
            let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            XCTAssertNil(reopened.recovery.tornTail, "crash \(crash)")
            XCTAssertEqual(reopened.firstIndex, 1)
            XCTAssertEqual(reopened.lastIndex, 40, "crash \(crash): no old frame read as an entry")
            try checkPayloads(reopened, 1...15, size: 700)
            try checkPayloads(reopened, 16...40, size: 650)
            try reopened.append(makeBatch(first: 41, count: 1, size: 650))
            try checkPayloads(reopened, 41...41, size: 650)
            try reopened.close()
        }
    }

    /// reset(after:term:) (a snapshot installed past the log) keeps the sealed segments it drops as spares,
    /// and the log continues after the snapshot in them, across close and a crash.
    func testResetSegmentsBecomeSpares() throws {
        for crash in [false, true] {
            let directory = makeTemporaryDirectory(self, crash ? "crash" : "close")
            var log: Log? = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            for index in UInt64(1)...40 { try log!.append(makeBatch(first: index, count: 1, size: 700)) }
            try log!.reset(after: 50, term: 3)
            XCTAssertEqual(spareFiles(directory), [spareName(1, 1), spareName(2, 11)], "crash \(crash)")
            XCTAssertEqual(log!.firstIndex, 51)
            XCTAssertEqual(log!.lastIndex, 50)
            XCTAssertEqual(try log!.term(at: 50), 3)
            for index in UInt64(51)...70 { try log!.append(makeBatch(first: index, count: 1, term: 3, size: 700)) }
            XCTAssertEqual(log!.recycledSegmentsForTesting, 2, "crash \(crash)")
            XCTAssertEqual(spareFiles(directory), [])
            try checkEntries(log!, 51...70, size: 700)
            if crash { log = nil } else { try log!.close() }
            _ = log
            let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            XCTAssertNil(reopened.recovery.tornTail, "crash \(crash)")
            try checkEntries(reopened, 51...70, size: 700)
            XCTAssertEqual(try reopened.term(at: 50), 3)
            XCTAssertEqual(try reopened.entry(at: 70).term, 3)
            try reopened.close()
        }
    }

    func testRecyclingOffUnlinksAsBefore() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try logWithSpares(directory, recycle: 0)
        XCTAssertEqual(spareFiles(directory), [])
        for index in UInt64(41)...60 { try log.append(makeBatch(first: index, count: 1, size: 700)) }
        for name in segmentFiles(directory) { XCTAssertEqual(previousSalt(directory + "/" + name), 0, name) }
        try checkEntries(log, 31...60, size: 700)
    }

    /// A process crash while a recycled segment is active (its old frames after the new ones, in the page
    /// cache): opening finds no torn tail, every entry, and appends again; the inspector agrees. Entry
    /// sizes vary so new frames end inside old ones.
    func testProcessCrashInARecycledSegmentFindsNoTornTail() throws {
        for size in [700, 333, 1500, 64] {
            let directory = makeTemporaryDirectory(self, "crash\(size)")
            var log: Log? = try logWithSpares(directory)
            try log!.append(makeBatch(first: 41, count: 1, size: 700))  // rotates into a spare
            for index in UInt64(42)...44 { try log!.append(makeBatch(first: index, count: 1, size: size)) }
            let active = directory + "/" + segmentFiles(directory).last!
            XCTAssertNotEqual(previousSalt(active), 0)
            log = nil  // a crash
            XCTAssertNil(try LogInspector.verify(directory: directory).tornTailOffset, "size \(size), after the crash")
            let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            XCTAssertNil(reopened.recovery.tornTail, "size \(size)")
            XCTAssertEqual(reopened.lastIndex, 44)
            XCTAssertEqual(try reopened.entry(at: 41).payload, testPayload(41, size: 700))
            for index in UInt64(42)...44 { XCTAssertEqual(try reopened.entry(at: index).payload, testPayload(index, size: size)) }
            try reopened.append(makeBatch(first: 45, count: 1, size: size))
            XCTAssertEqual(try reopened.entry(at: 45).payload, testPayload(45, size: size))
            _ = log
        }
    }

    /// A torn write in a recycled segment is still found and reported: garbage after the last frame.
    func testTornWriteInARecycledSegmentIsReported() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log? = try logWithSpares(directory)
        for index in UInt64(41)...43 { try log!.append(makeBatch(first: index, count: 1, size: 700)) }
        log = nil  // a crash
        let active = directory + "/" + segmentFiles(directory).last!
        let dataEnd = SegmentFormat.headerSize + 3 * SegmentFormat.frameSize(700)
        var bytes = readFile(active)
        for k in 0..<100 { bytes[dataEnd + k] = UInt8(0x5A ^ k) }  // half a frame header and payload
        writeFile(active, bytes)
        XCTAssertEqual(try LogInspector.verify(directory: directory).tornTailOffset, Int64(dataEnd))
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
        let torn = try XCTUnwrap(reopened.recovery.tornTail)
        XCTAssertEqual(torn.offset, Int64(dataEnd))
        // The garbage and the rest of the old frame it landed on (here old and new frames align: 736 bytes).
        XCTAssertEqual(torn.bytesDropped, Int64(SegmentFormat.frameSize(700)) - 4)
        XCTAssertEqual(reopened.lastIndex, 43)
    }
}
