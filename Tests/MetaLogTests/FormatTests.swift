@testable import MetaLog
import XCTest

/// The exact bytes of docs/FORMAT.md.
final class FormatTests: XCTestCase {
    private func le<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    private func crc(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 { Array(bytes).withUnsafeBytes { CRC32C.extend(seed, $0) } }

    func testSegmentHeaderFramesAndFooterBytes() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        var batch = EntryBatch()
        batch.append(term: 7, kind: 3, payload: [0xAA, 0xBB, 0xCC])
        batch.append(term: 7, kind: 0, payload: [])
        try log.append(batch)
        // Fill the segment so it is sealed.
        while log.segmentCount < 2 { try log.append(makeBatch(first: log.lastIndex + 1, count: 4, term: 7, size: 200)) }
        let sealedEntries = try XCTUnwrap(log.read(from: 1)).count - Int(log.lastIndex - (try XCTUnwrap(SegmentFormat.parseFileName(segmentFiles(directory)[1])).baseIndex) + 1)
        let lastIndex = log.lastIndex
        try log.close()
        // Close ends the active segment with a sync marker recording the durable index.
        let active = readFile(directory + "/" + segmentFiles(directory)[1])
        let activeSalt = UInt32(truncatingIfNeeded: UInt64(2) ^ (UInt64(2) >> 32))
        var marker = le(UInt32(0)) + le(lastIndex) + le(UInt64(0)) + [0, 1, 0, 0] + le(UInt32(0))
        marker = le(crc(marker[0...], seed: activeSalt)) + marker
        XCTAssertEqual(Array(active.suffix(32)), marker)
        let name = segmentFiles(directory)[0]
        XCTAssertEqual(name, "0000000000000001-00000000000000000001.seg")
        let file = readFile(directory + "/" + name)

        // Header.
        var header = Array("MLOGSEG".utf8) + [0] + le(UInt32(2)) + le(UInt32(0)) + le(UInt64(1)) + le(UInt64(1))
        header += le(crc(header[0..<32])) + le(UInt32(0))
        XCTAssertEqual(Array(file[0..<40]), header)

        // Frame 1: payload AA BB CC, padded to 8; sync lag 1 (the log was durable through 0).
        let salt = UInt32(truncatingIfNeeded: UInt64(1) ^ (UInt64(1) >> 32))
        var frame1 = le(UInt32(3)) + le(UInt64(1)) + le(UInt64(7)) + [3, 0, 0, 0] + le(UInt32(1)) + [0xAA, 0xBB, 0xCC, 0, 0, 0, 0, 0]
        frame1 = le(crc(frame1[0...], seed: salt)) + frame1
        XCTAssertEqual(Array(file[40..<80]), frame1)
        // Frame 2: empty payload, sync lag 2.
        var frame2 = le(UInt32(0)) + le(UInt64(2)) + le(UInt64(7)) + [0, 0, 0, 0] + le(UInt32(2))
        frame2 = le(crc(frame2[0...], seed: salt)) + frame2
        XCTAssertEqual(Array(file[80..<112]), frame2)

        // Footer: offsets, padding, trailer at the very end.
        let trailer = file.count - 40
        XCTAssertEqual(Array(file[trailer..<(trailer + 8)]), Array("MLOGFOOT".utf8))
        XCTAssertEqual(Array(file[(trailer + 8)..<(trailer + 16)]), le(UInt64(1)))
        XCTAssertEqual(Array(file[(trailer + 16)..<(trailer + 20)]), le(UInt32(sealedEntries)))
        let footerStart = Int(file[(trailer + 24)..<(trailer + 32)].withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
        XCTAssertEqual(footerStart + ((sealedEntries * 4 + 7) & ~7) + 40, file.count)
        XCTAssertEqual(Array(file[footerStart..<(footerStart + 8)]), le(UInt32(40)) + le(UInt32(80)))
        XCTAssertEqual(Array(file[(trailer + 20)..<(trailer + 24)]), le(crc(file[footerStart..<(footerStart + sealedEntries * 4)])))
        XCTAssertEqual(Array(file[(trailer + 32)..<(trailer + 36)]), [1, 0, 0, 0], "flags: terms never decrease")
        XCTAssertEqual(Array(file[(trailer + 36)..<(trailer + 40)]), le(crc(file[trailer..<(trailer + 36)])))
    }

    func testHardStateAndFirstIndexBytes() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory)
        // No segment yet: the hard state goes to its file (version 2, seq 1).
        try log.saveHardState(HardState(term: 5, vote: 3, commit: 9, context: [1, 2]))
        try log.removePrefix(through: 41)
        try log.close()
        var hard = Array("MLOGHARD".utf8) + le(UInt32(2)) + le(UInt32(2)) + le(UInt64(5)) + le(UInt64(3)) + le(UInt64(9))
        hard += le(UInt64(1)) + [1, 2]
        hard += le(crc(hard[0...]))
        XCTAssertEqual(readFile(directory + "/hardstate"), hard)
        // Past the end: boundary term 0 (unknown).
        var first = Array("MLOGFRST".utf8) + le(UInt64(42)) + le(UInt64(0))
        first += le(crc(first[0...])) + le(UInt32(0))
        XCTAssertEqual(readFile(directory + "/first-index"), first)
    }

    /// Files written by the previous version (hard state v1, 24-byte first-index) still open.
    func testVersion1HardStateAndFirstIndexFilesAreRead() throws {
        let directory = makeTemporaryDirectory(self)
        try Log(directory: directory).close()
        var hard = Array("MLOGHARD".utf8) + le(UInt32(1)) + le(UInt32(2)) + le(UInt64(5)) + le(UInt64(3)) + le(UInt64(9)) + [1, 2]
        hard += le(crc(hard[0...]))
        writeFile(directory + "/hardstate", hard)
        var first = Array("MLOGFRST".utf8) + le(UInt64(42))
        first += le(crc(first[0...])) + le(UInt32(0))
        writeFile(directory + "/first-index", first)
        let log = try Log(directory: directory)
        XCTAssertEqual(log.hardState, HardState(term: 5, vote: 3, commit: 9, context: [1, 2]))
        XCTAssertEqual(log.firstIndex, 42)
        XCTAssertEqual(try log.term(at: 41), 0, "a v1 first-index file has no boundary term")
        // A new save (seq 1) wins over the v1 file (seq 0), also after reopening.
        try log.append(makeBatch(first: 42, count: 1))
        try log.saveHardState(HardState(term: 6, vote: 0, commit: 42))
        try log.close()
        XCTAssertEqual(try Log(directory: directory).hardState, HardState(term: 6, vote: 0, commit: 42))
    }

    /// A hard-state record in a segment: flags bit 1, index = last entry, payload seq|term|vote|commit|context.
    func testHardStateRecordBytes() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        try log.append(makeBatch(first: 1, count: 1, size: 8))
        try log.saveHardState(HardState(term: 4, vote: 2, commit: 1, context: [9]))
        let file = readFile(directory + "/" + segmentFiles(directory)[0])
        let salt = UInt32(truncatingIfNeeded: UInt64(1) ^ (UInt64(1) >> 32))
        var record = le(UInt32(33)) + le(UInt64(1)) + le(UInt64(0)) + [0, 2, 0, 0] + le(UInt32(0))
        record += le(UInt64(1)) + le(UInt64(4)) + le(UInt64(2)) + le(UInt64(1)) + [9, 0, 0, 0, 0, 0, 0, 0]
        record = le(crc(record[0...], seed: salt)) + record
        XCTAssertEqual(Array(file[80..<(80 + record.count)]), record)
        XCTAssertNil(FileManager.default.contents(atPath: directory + "/hardstate"), "one write, no file")
    }
}
