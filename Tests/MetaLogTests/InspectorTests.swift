import Foundation
@testable import MetaLog
import XCTest

final class InspectorTests: XCTestCase {
    private let options = LogOptions(segmentBytes: 8 << 10, durability: .manual)

    private func buildLog(_ count: Int = 400) throws -> String {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: options)
        for i in stride(from: 1, through: count, by: 10) { try log.append(makeBatch(first: UInt64(i), count: 10)) }
        try log.close()
        return directory
    }

    func testVerifyDescribesAHealthyLog() throws {
        let directory = try buildLog()
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertNil(report.tornTailOffset)
        XCTAssertEqual(report.firstIndex, 1)
        XCTAssertEqual(report.lastIndex, 400)
        let files = segmentFiles(directory)
        XCTAssertEqual(report.segments.map(\.file), files)
        XCTAssertEqual(report.segments.first?.firstIndex, 1)
        XCTAssertEqual(report.segments.last?.lastIndex, 400)
        XCTAssertEqual(report.segments.filter { !$0.sealed }.map(\.file), [files.last!])
        for (a, b) in zip(report.segments, report.segments.dropFirst()) { XCTAssertEqual(a.lastIndex + 1, b.firstIndex) }
        var seen: UInt64 = 0
        try LogInspector.forEachEntry(directory: directory, from: 390) { header, payload in
            XCTAssertEqual(header.index, 390 + seen)
            XCTAssertEqual([UInt8](payload), testPayload(header.index))
            seen += 1
            return true
        }
        XCTAssertEqual(seen, 11)
    }

    func testVerifyReportsATornTailWithoutCallingItAProblem() throws {
        let directory = try buildLog()
        let name = try XCTUnwrap(segmentFiles(directory).last)
        let path = directory + "/" + name
        var bytes = readFile(path)
        let report0 = try LogInspector.verify(directory: directory)
        let lastSegment = try XCTUnwrap(report0.segments.last)
        // Half-written garbage right after the last frame (a closed log's last segment ends there).
        let end = try lastFrameEnd(bytes, base: lastSegment.baseIndex)
        XCTAssertEqual(end, bytes.count)
        bytes += [UInt8](repeating: 0xAB, count: 20) + [UInt8](repeating: 0, count: 100)
        writeFile(path, bytes)
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.tornTailOffset, Int64(end))
        XCTAssertEqual(report.tornTailFile, name)
        XCTAssertEqual(report.lastIndex, 400)
        XCTAssertEqual(readFile(path).count, bytes.count, "verify changes nothing")
        let log = try Log(directory: directory, options: options)
        XCTAssertEqual(log.recovery.tornTail, TornTail(file: name, offset: Int64(end), bytesDropped: 20))
    }

    /// End of the last valid frame of a segment image.
    private func lastFrameEnd(_ bytes: [UInt8], base: UInt64) throws -> Int {
        var offset = SegmentFormat.headerSize
        var index = base
        while offset + SegmentFormat.frameHeaderSize <= bytes.count {
            let length = bytes.withUnsafeBytes { Frame.payloadLength($0.baseAddress! + offset) }
            let stored = bytes.withUnsafeBytes { Frame.index($0.baseAddress! + offset) }
            if bytes.withUnsafeBytes({ Frame.isMarker($0.baseAddress! + offset) }) {
                offset += SegmentFormat.frameHeaderSize
                continue
            }
            if stored != index || length == 0 && stored == 0 { break }
            offset += SegmentFormat.frameSize(length)
            index += 1
        }
        return offset
    }

    func testRepairCutsAtTheFirstCorruptionKeepsACopyAndReports() throws {
        let directory = try buildLog()
        let files = segmentFiles(directory)
        let victim = files[2]
        let base = try XCTUnwrap(SegmentFormat.parseFileName(victim)).baseIndex
        let path = directory + "/" + victim
        var bytes = readFile(path)
        let frame = SegmentFormat.headerSize + SegmentFormat.frameSize(testPayload(base).count) + SegmentFormat.frameSize(testPayload(base + 1).count)
        bytes[frame + 20] ^= 1  // term byte of entry base + 2
        writeFile(path, bytes)
        let verify = try LogInspector.verify(directory: directory)
        guard case let .corruption(file, offset, index, _)? = verify.problems.first else { return XCTFail("no problem found") }
        XCTAssertEqual(file, victim)
        XCTAssertEqual(offset, Int64(frame))
        XCTAssertEqual(index, base + 2)
        XCTAssertEqual(verify.lastIndex, base + 1)

        let locked = try Log(directory: directory, options: options)
        assertThrows(.locked(directory: directory)) { try LogInspector.repair(directory: directory) }
        try locked.close()

        let sizes = files.dropFirst(2).map { readFile(directory + "/" + $0).count }
        let report = try LogInspector.repair(directory: directory)
        XCTAssertTrue(report.changed)
        XCTAssertEqual(report.droppedFirstIndex, base + 2)
        XCTAssertEqual(report.droppedLastIndex, 400)
        XCTAssertEqual(report.files, Array(files.dropFirst(2)))
        XCTAssertEqual(report.droppedBytes, Int64(sizes.reduce(0, +) - frame))
        let backup = try XCTUnwrap(report.backupDirectory)
        let saved = try FileManager.default.contentsOfDirectory(atPath: backup).sorted()
        XCTAssertEqual(saved.count, files.count - 2)
        XCTAssertTrue(readFile(backup + "/" + victim + ".from-\(frame)") == Array(bytes[frame...]), "the cut bytes are kept")
        XCTAssertEqual(readFile(backup + "/" + files[3]).count, sizes[1])

        let log = try Log(directory: directory, options: options)
        XCTAssertEqual(log.lastIndex, base + 1)
        XCTAssertEqual(try log.entry(at: base + 1).payload, testPayload(base + 1))
        try log.append(makeBatch(first: base + 2, count: 3))
        try log.close()
        XCTAssertEqual(try LogInspector.verify(directory: directory).problems, [])
        XCTAssertFalse(try LogInspector.repair(directory: directory).changed)
    }

    func testRepairOfADamagedFooterRewritesItAndDropsNothing() throws {
        let directory = try buildLog()
        let files = segmentFiles(directory)
        for (name, offset) in [(files[0], -3), (files[1], -40), (files[2], -45)] {  // trailer CRC, magic, offset table
            let path = directory + "/" + name
            var bytes = readFile(path)
            bytes[bytes.count + offset] ^= 0xFF
            writeFile(path, bytes)
        }
        XCTAssertNotNil(corruption { try Log(directory: directory, options: options) })
        let report = try LogInspector.repair(directory: directory)
        XCTAssertTrue(report.changed)
        XCTAssertNil(report.droppedFirstIndex)
        XCTAssertNil(report.droppedLastIndex)
        XCTAssertEqual(report.files, Array(files[0...2]))
        XCTAssertEqual(try LogInspector.verify(directory: directory).problems, [])
        let log = try Log(directory: directory, options: options)
        XCTAssertEqual(log.lastIndex, 400)
        for i in UInt64(1)...400 { XCTAssertEqual(try log.entry(at: i).payload, testPayload(i)) }
    }

    func testHardStateReadWithoutOpening() throws {
        let directory = makeTemporaryDirectory(self)
        XCTAssertThrowsError(try LogInspector.hardState(directory: directory))
        var log: Log? = try Log(directory: directory)
        // While a Log has the directory open the inspector stays out (the writer trims files).
        assertThrows(.locked(directory: directory)) { try LogInspector.hardState(directory: directory) }
        assertThrows(.locked(directory: directory)) { try LogInspector.verify(directory: directory) }
        assertThrows(.locked(directory: directory)) { try LogInspector.forEachEntry(directory: directory) { _, _ in true } }
        try log?.saveHardState(HardState(term: 4, vote: 2, commit: 1, context: [5]))
        try log?.close()
        XCTAssertEqual(try LogInspector.hardState(directory: directory), HardState(term: 4, vote: 2, commit: 1, context: [5]))
        log = try Log(directory: directory)
        try log?.append(makeBatch(first: 1, count: 2))
        try log?.saveHardState(HardState(term: 5, vote: 0, commit: 2))
        log = nil  // released without close: the record in the segment is the newest hard state
        XCTAssertEqual(try LogInspector.hardState(directory: directory), HardState(term: 5, vote: 0, commit: 2))
    }
}
