import Foundation
@testable import MetaLog
import XCTest

/// Damage anywhere but a torn tail is reported with the file, offset and index; nothing is dropped silently.
final class CorruptionTests: XCTestCase {
    private let options = LogOptions(segmentBytes: 8 << 10)

    /// A log of 400 entries over several segments; returns the directory and segment names.
    private func buildLog() throws -> (String, [String]) {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 8 << 10, durability: .manual))
        for i in 0..<40 { try log.append(makeBatch(first: UInt64(i * 10 + 1), count: 10)) }
        try log.close()
        let files = segmentFiles(directory)
        XCTAssertGreaterThan(files.count, 3)
        return (directory, files)
    }

    private func flip(_ path: String, at offset: Int) {
        var bytes = readFile(path)
        bytes[offset] ^= 0x40
        writeFile(path, bytes)
    }

    /// Where each frame of a segment starts (from its footer).
    private func frameOffsets(_ path: String, base: UInt64) throws -> (offsets: [Int], footerStart: Int) {
        let bytes = readFile(path)
        return try bytes.withUnsafeBytes { raw in
            guard case let .valid(offsets, footerStart) = Footer.decode(raw.baseAddress!, fileSize: raw.count, baseIndex: base) else {
                throw LogError.invalidArgument("no footer")
            }
            return (offsets.map { Int($0) }, footerStart)
        }
    }

    func testHeaderFlipsInEverySegmentFailOpenWithFileAndOffset() throws {
        let (directory, files) = try buildLog()
        for name in [files[0], files[1], files[files.count - 1]] {
            let path = directory + "/" + name
            let original = readFile(path)
            for offset in 0..<SegmentFormat.headerSize {
                flip(path, at: offset)
                let expected: Int64 = offset < 8 ? 0 : (offset < 36 ? 32 : 36)
                let found = corruption { try Log(directory: directory, options: options) }
                XCTAssertEqual(found?.file, name, "flip at \(offset)")
                XCTAssertEqual(found?.offset, expected, "flip at \(offset)")
                XCTAssertFalse(try LogInspector.verify(directory: directory).problems.isEmpty)
                writeFile(path, original)
            }
        }
        XCTAssertEqual(try Log(directory: directory, options: options).lastIndex, 400)
    }

    func testFooterFlipsFailOpenWithFileAndOffset() throws {
        let (directory, files) = try buildLog()
        let name = files[1]
        let path = directory + "/" + name
        let base = try XCTUnwrap(SegmentFormat.parseFileName(name)).baseIndex
        let (_, footerStart) = try frameOffsets(path, base: base)
        let original = readFile(path)
        let trailer = original.count - Footer.trailerSize
        for offset in footerStart..<original.count {
            flip(path, at: offset)
            let found = corruption { try Log(directory: directory, options: options) }
            XCTAssertEqual(found?.file, name, "flip at \(offset)")
            let expected: Int64
            if offset < trailer {
                // The offset table's checksum, or a padding byte itself.
                expected = offset < footerStart + (original.count - footerStart - Footer.trailerSize) ? Int64(footerStart) : Int64(offset)
            } else if offset < trailer + 8 {
                expected = Int64(trailer)  // magic gone: "no footer"
            } else {
                expected = Int64(trailer + 36)  // trailer checksum
            }
            if offset >= footerStart + ((original.count - footerStart - Footer.trailerSize) & ~7) - 4 && offset < trailer {
                // Bytes of the last offset-table word or padding: either is reported where it was found.
                XCTAssertTrue(found?.offset == Int64(footerStart) || found?.offset == Int64(offset), "flip at \(offset): \(String(describing: found))")
            } else {
                XCTAssertEqual(found?.offset, expected, "flip at \(offset)")
            }
            XCTAssertFalse(try LogInspector.verify(directory: directory).problems.isEmpty, "flip at \(offset)")
            writeFile(path, original)
        }
    }

    func testFrameFlipsInSealedSegmentsAreCaughtOnReadByVerifyAndByVerifyOnOpen() throws {
        let (directory, files) = try buildLog()
        let name = files[1]
        let path = directory + "/" + name
        let base = try XCTUnwrap(SegmentFormat.parseFileName(name)).baseIndex
        let (offsets, footerStart) = try frameOffsets(path, base: base)
        let original = readFile(path)
        for offset in SegmentFormat.headerSize..<footerStart {  // every byte of every frame
            flip(path, at: offset)
            let frame = offsets.lastIndex { $0 <= offset }!
            let index = base + UInt64(frame)
            // verifyOnOpen: opening fails.
            let atOpen = corruption { try Log(directory: directory, options: LogOptions(segmentBytes: 8 << 10, verifyOnOpen: true)) }
            XCTAssertEqual(atOpen?.file, name)
            XCTAssertEqual(atOpen?.offset, Int64(offsets[frame]), "flip at \(offset)")
            XCTAssertEqual(atOpen?.index, index, "flip at \(offset)")
            // Default open reads footers only; the entry's read fails, naming the frame.
            let log = try Log(directory: directory, options: options)
            let onRead = corruption { try log.entry(at: index) }
            XCTAssertEqual(onRead?.file, name)
            XCTAssertEqual(onRead?.offset, Int64(offsets[frame]))
            XCTAssertEqual(onRead?.index, index)
            XCTAssertNotNil(corruption { try log.read(from: 1) })
            // Reads and scans reaching the frame from each position of a group of four (frames are checked
            // four at a time) report it exactly, after every entry before it; reads that stop short do not.
            for start in (index > 4 ? index - 4 : 1)...index {
                var seen: [UInt64] = []
                let scanned = corruption {
                    try log.forEachEntry(from: start) { header, payload in
                        if payload.elementsEqual(testPayload(header.index)) { seen.append(header.index) }
                        return true
                    }
                }
                XCTAssertEqual(scanned?.offset, Int64(offsets[frame]), "scan from \(start), flip at \(offset)")
                XCTAssertEqual(scanned?.index, index, "scan from \(start), flip at \(offset)")
                XCTAssertEqual(seen, Array(start..<index), "scan from \(start), flip at \(offset)")
                let read = corruption { try log.read(from: start) }
                XCTAssertEqual(read?.offset, Int64(offsets[frame]), "read from \(start), flip at \(offset)")
                XCTAssertEqual(read?.index, index, "read from \(start), flip at \(offset)")
                guard start < index else { continue }
                XCTAssertEqual(try log.read(from: start, maxCount: Int(index - start)).count, Int(index - start))
                let bytes = (start..<index).reduce(0) { $0 + testPayload($1).count }
                XCTAssertEqual(try log.read(from: start, maxBytes: bytes).count, Int(index - start),
                               "a byte budget that ends before the damaged frame, flip at \(offset)")
            }
            if index > 1 { XCTAssertEqual(try log.entry(at: index - 1).payload, testPayload(index - 1)) }
            try log.close()
            let report = try LogInspector.verify(directory: directory)
            guard case let .corruption(file, reportedOffset, reportedIndex, _)? = report.problems.first else {
                XCTFail("verify found nothing for a flip at \(offset)")
                continue
            }
            XCTAssertEqual(file, name)
            XCTAssertEqual(reportedOffset, Int64(offsets[frame]))
            XCTAssertEqual(reportedIndex, index)
            writeFile(path, original)
        }
    }

    /// Damage in the last segment followed by frames written after it was synced is corruption.
    func testDamageBeforeLaterSyncedFramesInTheLastSegmentIsCorruption() throws {
        let directory = makeTemporaryDirectory(self)
        let small = LogOptions(segmentBytes: 8 << 10)
        let log = try Log(directory: directory, options: small)
        for index in UInt64(1)...20 { try log.append(makeBatch(first: index, count: 1, size: 24)) }
        try log.close()
        let name = try XCTUnwrap(segmentFiles(directory).first)
        let path = directory + "/" + name
        let original = readFile(path)
        let frame = SegmentFormat.frameSize(24)
        for entry in 0..<19 {
            for offset in [0, 5, 9, 17, 24, 30, 40, frame - 1] {
                flip(path, at: SegmentFormat.headerSize + entry * frame + offset)
                let found = corruption { try Log(directory: directory, options: small) }
                XCTAssertEqual(found?.file, name)
                XCTAssertEqual(found?.offset, Int64(SegmentFormat.headerSize + entry * frame))
                XCTAssertEqual(found?.index, UInt64(entry + 1))
                writeFile(path, original)
            }
        }
        // Damage to the very last frame is corruption too while the marker that close wrote after it says
        // it was synced; without that marker (a crash before the sync) it is a torn tail: cut, reported.
        flip(path, at: SegmentFormat.headerSize + 19 * frame + 12)
        XCTAssertEqual(corruption { try Log(directory: directory, options: small) }?.index, 20)
        var bytes = readFile(path)
        XCTAssertEqual(bytes.count, SegmentFormat.headerSize + 20 * frame + SegmentFormat.frameHeaderSize)
        bytes.removeLast(SegmentFormat.frameHeaderSize)
        writeFile(path, bytes)
        let reopened = try Log(directory: directory, options: small)
        XCTAssertEqual(reopened.lastIndex, 19)
        XCTAssertEqual(reopened.recovery.tornTail, TornTail(file: name, offset: Int64(SegmentFormat.headerSize + 19 * frame), bytesDropped: Int64(frame)))
    }

    func testMissingMiddleSegmentIsCorruption() throws {
        let (directory, files) = try buildLog()
        try FileManager.default.removeItem(atPath: directory + "/" + files[1])
        let found = corruption { try Log(directory: directory, options: options) }
        XCTAssertEqual(found?.file, files[2])
    }

    func testDamagedHardStateAndFirstIndexFilesAreCorruption() throws {
        let directory = makeTemporaryDirectory(self)
        do {
            let log = try Log(directory: directory)
            try log.append(makeBatch(first: 1, count: 5))
            try log.saveHardState(HardState(term: 2, vote: 1, commit: 3, context: [9]))
            try log.removePrefix(through: 2)
            try log.close()
        }
        for name in ["hardstate", "first-index"] {
            let path = directory + "/" + name
            let original = readFile(path)
            for offset in 0..<original.count {
                flip(path, at: offset)
                let found = corruption { try Log(directory: directory) }
                XCTAssertEqual(found?.file, name, "flip at \(offset)")
                writeFile(path, original)
            }
        }
        let log = try Log(directory: directory)
        XCTAssertEqual(log.hardState, HardState(term: 2, vote: 1, commit: 3, context: [9]))
        XCTAssertEqual(log.firstIndex, 3)
    }
}
