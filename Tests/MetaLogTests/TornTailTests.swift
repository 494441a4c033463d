import Foundation
@testable import MetaLog
import XCTest

/// Torn writes at the end of the last segment: whatever byte the write stopped at, reopening gives exactly
/// the entries whose frames were complete before the cut.
final class TornTailTests: XCTestCase {
    /// Builds a log of `count` entries (one per append, sync each) and returns the directory, the last
    /// segment's path and the end offset of every frame in it (index -> end).
    private let options = LogOptions(segmentBytes: 16 << 10)

    private func buildLog(count: Int) throws -> (directory: String, segment: String, ends: [UInt64: Int]) {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: options)
        for index in UInt64(1)...UInt64(count) { try log.append(makeBatch(first: index, count: 1)) }
        try log.close()
        let name = try XCTUnwrap(segmentFiles(directory).last)
        let base = try XCTUnwrap(SegmentFormat.parseFileName(name)).baseIndex
        var ends: [UInt64: Int] = [:]
        var offset = SegmentFormat.headerSize
        for index in base...UInt64(count) {
            offset += SegmentFormat.frameSize(testPayload(index).count)
            ends[index] = offset
        }
        return (directory, directory + "/" + name, ends)
    }

    private func copyDirectory(_ from: String) throws -> String {
        let to = makeTemporaryDirectory(self)
        try FileManager.default.copyItem(atPath: from, toPath: to)
        return to
    }

    /// Cuts the last segment at every byte offset inside its last records, three ways: the file ends
    /// there, zeros follow (a preallocated file), or garbage follows (a half-written sector).
    func testEveryCutPointInTheLastRecordsRecoversExactlyThePrefix() throws {
        let count = 300
        let (directory, segment, ends) = try buildLog(count: count)
        let original = readFile(segment)
        let lastEnd = try XCTUnwrap(ends[UInt64(count)])
        let firstCut = try XCTUnwrap(ends[UInt64(count - 4)])
        var cases = 0
        for cut in firstCut...lastEnd {
            for variant in 0..<3 {
                // Zeros over a frame's zero padding leave it intact; a shorter file or garbage do not.
                let survivors = UInt64(ends.filter { index, end in
                    end <= cut || (variant == 1 && end - (SegmentFormat.frameSize(testPayload(index).count) - SegmentFormat.frameHeaderSize - testPayload(index).count) <= cut)
                }.map(\.key).max() ?? 0)
                let copy = try copyDirectory(directory)
                let path = copy + "/" + (segment as NSString).lastPathComponent
                var bytes = original
                switch variant {
                case 0: bytes.removeSubrange(cut...)
                case 1: for i in cut..<lastEnd { bytes[i] = 0 }
                default:
                    var rng = SystemRandomNumberGenerator()
                    for i in cut..<lastEnd { bytes[i] ^= UInt8.random(in: 1...255, using: &rng) }  // every byte differs
                }
                writeFile(path, bytes)
                let log = try Log(directory: copy, options: options)
                XCTAssertEqual(log.lastIndex, survivors, "cut at \(cut), variant \(variant)")
                let cutInsideFrame = ends[survivors].map { $0 < cut } ?? true
                if variant > 0 && cutInsideFrame && cut < lastEnd && survivors < UInt64(count) {
                    let torn = try XCTUnwrap(log.recovery.tornTail, "cut at \(cut), variant \(variant)")
                    XCTAssertEqual(torn.offset, Int64(ends[survivors] ?? 0))
                    XCTAssertEqual(torn.file, (segment as NSString).lastPathComponent)
                }
                try log.withEntry(at: survivors) { header, payload in
                    XCTAssertEqual(header.index, survivors)
                    XCTAssertEqual([UInt8](payload), testPayload(survivors))
                }
                assertThrows(.unavailable(index: survivors + 1, lastIndex: survivors)) { try log.entry(at: survivors + 1) }
                guard variant == 0 else {
                    try log.close()
                    try FileManager.default.removeItem(atPath: copy)
                    cases += 1
                    continue
                }
                // The log continues cleanly after the cut.
                try log.append(makeBatch(first: survivors + 1, count: 2))
                try log.close()
                let again = try Log(directory: copy, options: options)
                XCTAssertEqual(again.lastIndex, survivors + 2)
                XCTAssertNil(again.recovery.tornTail)
                XCTAssertEqual(try again.entry(at: survivors + 2).payload, testPayload(survivors + 2))
                try again.close()
                try FileManager.default.removeItem(atPath: copy)
                cases += 1
            }
        }
        XCTAssertGreaterThan(cases, 300)
    }

    /// An unsynced batch whose middle frames were lost but whose later frames reached the disk (pages
    /// written back out of order) is a torn tail, not corruption: the later frames record that they were
    /// written before any sync covered the lost ones.
    func testOutOfOrderWritebackOfTheLastBatchIsTorn() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(durability: .manual))
        try log.append(makeBatch(first: 1, count: 10, size: 50))
        try log.sync()
        try log.append(makeBatch(first: 11, count: 10, size: 50))
        try log.append(makeBatch(first: 21, count: 10, size: 50))
        try log.close()  // close syncs; pretend it did not, by damaging frame 14 only
        let name = try XCTUnwrap(segmentFiles(directory).first)
        var bytes = readFile(directory + "/" + name)
        let frame = SegmentFormat.frameSize(50)
        let offset14 = SegmentFormat.headerSize + 13 * frame
        // Rewrite the sync lags as they would be if close had not synced: written after the sync at 10.
        for i in 0..<30 where i >= 10 {
            let at = SegmentFormat.headerSize + i * frame
            bytes.withUnsafeMutableBytes { raw in
                Frame.seal(raw.baseAddress! + at, index: UInt64(i + 1), syncLag: UInt32(i + 1 - 10), salt: SegmentFormat.salt(1))
            }
        }
        for i in offset14..<(offset14 + frame) { bytes[i] = 0 }
        writeFile(directory + "/" + name, bytes)
        let reopened = try Log(directory: directory)
        XCTAssertEqual(reopened.lastIndex, 13)
        XCTAssertEqual(reopened.recovery.tornTail?.offset, Int64(offset14))
    }
}
