import Foundation
import MetaLog
import XCTest

/// Black-box tests of `metactl log verify`: clean logs, torn tails, corruption, JSON, errors.
final class LogVerifyTests: XCTestCase {
    /// A frame is a 32-byte header then the payload (docs/FORMAT.md), so a frame starts 32 bytes before
    /// its payload: the offset verify must name for a damaged frame or a torn tail.
    static let frameHeader = 32

    func testCleanLogWithSeveralSegments() throws {
        let scratch = try ScratchDirectory("verify-clean")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 600, entryBytes: 200)

        let text = try Metactl.run(["log", "verify", "--dir", dir, "--payload", "splitmix64"], expect: 0)
        let segments = try LogFixture.segments(dir)
        XCTAssertGreaterThan(segments.count, 1, "600 x 200 bytes must rotate 64 KiB segments")
        XCTAssertEqual(text.lines, [
            "firstIndex 1", "lastIndex 600", "segments \(segments.count)", "tornTail none", "payloadsChecked 600",
            "problems 0",
        ])
        XCTAssertEqual(text.stderr, "")

        let report = try Metactl.json(["log", "verify", "--dir", dir, "--json"])
        XCTAssertEqual(JSON.int(report["firstIndex"]), 1)
        XCTAssertEqual(JSON.int(report["lastIndex"]), 600)
        XCTAssertEqual(JSON.int(report["segments"]), segments.count)
        XCTAssertTrue(report["tornTailOffset"] is NSNull, "\(report)")
        XCTAssertTrue(report["payloadsChecked"] is NSNull, "no --payload, no payload check: \(report)")
        XCTAssertEqual((report["problems"] as? [Any])?.count, 0)

        // The segments cover 1...600 without gap or overlap; only the last one is active.
        var next: UInt64 = 1
        for (position, segment) in segments.enumerated() {
            XCTAssertEqual(segment.firstIndex, next, segment.name)
            XCTAssertGreaterThanOrEqual(segment.lastIndex, segment.firstIndex, segment.name)
            XCTAssertEqual(segment.sealed, position < segments.count - 1, segment.name)
            XCTAssertTrue(FileManager.default.fileExists(atPath: segment.path), segment.path)
            next = segment.lastIndex + 1
        }
        XCTAssertEqual(next, 601)
    }

    /// A last frame cut in half is a torn tail: reported with its offset, exit 0, and opening cuts exactly it.
    func testTornTailByCutFileIsReportedNotAnError() throws {
        try checkTornTail { path, payloadOffset in try LogFixture.cut(path, to: payloadOffset + 50) }
    }

    /// A damaged last frame with nothing valid after it is a torn tail too. A clean close writes a sync
    /// marker after the last entry, so the file is first cut where a crash before the close would have left
    /// it: right after entry 50's frame (100 payload bytes, padded to 104).
    func testTornTailByDamagedLastFrameIsReportedNotAnError() throws {
        try checkTornTail { path, payloadOffset in
            try LogFixture.cut(path, to: payloadOffset + 104)
            try LogFixture.flipByte(at: payloadOffset + 60, in: path)
        }
    }

    /// The same damage in a cleanly closed log is corruption: the close's sync marker after the frame says
    /// entry 50 was durable, so it cannot be a torn write. Exit 1, naming the file, the frame and the index.
    func testDamagedLastFrameBeforeTheCloseMarkerIsCorruption() throws {
        let scratch = try ScratchDirectory("verify-closed")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 50, entryBytes: 100, batch: 1)
        let segments = try LogFixture.segments(dir)
        guard let last = segments.last, let payloadOffset = try LogFixture.payloadOffset(
            of: 50, entryBytes: 100, in: last.path)
        else { return XCTFail("entry 50 not found in \(segments)") }
        try LogFixture.flipByte(at: payloadOffset + 60, in: last.path)

        let report = try Metactl.json(["log", "verify", "--dir", dir, "--json"], expect: 1)
        XCTAssertEqual(JSON.int(report["lastIndex"]), 49, "\(report)")
        XCTAssertTrue(report["tornTailOffset"] is NSNull, "\(report)")
        guard let problems = report["problems"] as? [[String: Any]], problems.count == 1 else {
            return XCTFail("expected one problem: \(report)")
        }
        XCTAssertEqual(problems[0]["file"] as? String, last.name)
        XCTAssertEqual(JSON.int(problems[0]["offset"]), payloadOffset - Self.frameHeader)
        XCTAssertEqual(JSON.int(problems[0]["index"]), 50)
    }

    private func checkTornTail(
        file: StaticString = #filePath, line: UInt = #line, damage: (String, Int) throws -> Void
    ) throws {
        let scratch = try ScratchDirectory("verify-torn")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 50, entryBytes: 100, batch: 1)
        let segments = try LogFixture.segments(dir)
        guard let last = segments.last, let payloadOffset = try LogFixture.payloadOffset(
            of: 50, entryBytes: 100, in: last.path)
        else { return XCTFail("entry 50 not found in \(segments)", file: file, line: line) }
        try damage(last.path, payloadOffset)

        let report = try Metactl.json(["log", "verify", "--dir", dir, "--payload", "splitmix64", "--json"])
        XCTAssertEqual(JSON.int(report["lastIndex"]), 49, "\(report)", file: file, line: line)
        XCTAssertEqual((report["problems"] as? [Any])?.count, 0, "\(report)", file: file, line: line)
        XCTAssertEqual(JSON.int(report["payloadsChecked"]), 49, file: file, line: line)
        XCTAssertEqual(((report["tornTailFile"] as? String) as NSString?)?.lastPathComponent, last.name)
        guard let torn = JSON.int(report["tornTailOffset"]) else {
            return XCTFail("no tornTailOffset: \(report)", file: file, line: line)
        }
        XCTAssertEqual(torn, payloadOffset - Self.frameHeader, file: file, line: line)

        let text = try Metactl.run(["log", "verify", "--dir", dir], expect: 0)
        XCTAssertTrue(text.lines.contains { $0.hasPrefix("tornTail \(last.name) offset \(torn) ") }, "\(text)")
        XCTAssertTrue(text.lines.contains("problems 0"), "\(text)")

        // verify changed nothing: the library still finds (and now cuts) the same torn tail.
        let log = try Log(directory: dir, options: LogOptions(segmentBytes: 64 << 10))
        XCTAssertEqual(log.lastIndex, 49, file: file, line: line)
        XCTAssertEqual(log.recovery.tornTail?.offset, Int64(torn), file: file, line: line)
        try log.close()
        let after = try Metactl.json(["log", "verify", "--dir", dir, "--payload", "splitmix64", "--json"])
        XCTAssertTrue(after["tornTailOffset"] is NSNull, "\(after)", file: file, line: line)
        XCTAssertEqual(JSON.int(after["lastIndex"]), 49, file: file, line: line)
    }

    func testFlippedByteInSealedSegmentFailsNamingFileOffsetIndex() throws {
        let scratch = try ScratchDirectory("verify-flip")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 600, entryBytes: 200)
        let segments = try LogFixture.segments(dir)
        guard let sealed = segments.first(where: \.sealed) else { return XCTFail("no sealed segment: \(segments)") }
        let index = sealed.firstIndex + 10
        guard let payloadOffset = try LogFixture.payloadOffset(of: index, entryBytes: 200, in: sealed.path) else {
            return XCTFail("payload of \(index) not in \(sealed.path)")
        }
        try LogFixture.flipByte(at: payloadOffset + 100, in: sealed.path)

        let text = try Metactl.run(["log", "verify", "--dir", dir], expect: 1)
        let problemLine = text.lines.first { $0.hasPrefix("problem ") } ?? ""
        XCTAssertTrue(problemLine.contains(sealed.name), problemLine)
        XCTAssertTrue(problemLine.contains("index \(index)"), problemLine)
        XCTAssertTrue(text.stderr.contains(sealed.name) && text.stderr.contains("offset"), text.stderr)

        let report = try Metactl.json(["log", "verify", "--dir", dir, "--json"], expect: 1)
        // The damaged frame comes first; later segments may add follow-up problems (a gap in the indexes).
        let problems = JSON.objects(report["problems"])
        XCTAssertTrue(text.lines.contains("problems \(problems.count)"), "\(text)")
        let problem = problems.first ?? [:]
        XCTAssertEqual(((problem["file"] as? String) as NSString?)?.lastPathComponent, sealed.name)
        XCTAssertEqual(JSON.uint64(problem["index"]), index)
        let offset = JSON.int(problem["offset"]) ?? -1
        XCTAssertEqual(offset, payloadOffset - Self.frameHeader, "\(problem)")
        XCTAssertTrue(problemLine.contains("offset \(offset)"), problemLine)

        // The inspecting commands refuse a corrupt log with exit 1 too.
        try Metactl.run(["log", "stat", "--dir", dir], expect: 1)
        try Metactl.run(["log", "dump", "--dir", dir], expect: 1)
    }

    /// A bad frame followed by frames written after it was synced is corruption even in the active
    /// segment, not a torn tail (every append synced, so entry 30 was durable before 31 was written).
    func testDamagedFrameFollowedByValidDataIsCorruption() throws {
        let scratch = try ScratchDirectory("verify-mid")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 60, entryBytes: 100, batch: 1, sync: "always", expectLines: 60)
        let segments = try LogFixture.segments(dir)
        guard let active = segments.last,
              let payloadOffset = try LogFixture.payloadOffset(of: 30, entryBytes: 100, in: active.path)
        else { return XCTFail("entry 30 not found: \(segments)") }
        try LogFixture.flipByte(at: payloadOffset + 3, in: active.path)
        let report = try Metactl.json(["log", "verify", "--dir", dir, "--json"], expect: 1)
        let problems = JSON.objects(report["problems"])
        XCTAssertEqual(problems.count, 1, "\(report)")
        XCTAssertEqual(JSON.uint64(problems.first?["index"]), 30, "\(report)")
        XCTAssertEqual(JSON.int(problems.first?["offset"]), payloadOffset - Self.frameHeader, "\(report)")
        XCTAssertTrue(report["tornTailOffset"] is NSNull, "\(report)")
    }

    func testPayloadCheckNamesTheEntryThatDiffers() throws {
        let scratch = try ScratchDirectory("verify-payload")
        defer { scratch.remove() }
        let dir = scratch.child("log")
        try LogFixture.append(dir, count: 10, entryBytes: 64)
        // Entry 11 carries entry 12's payload: every frame is valid, only the payload check can see it.
        let log = try Log(directory: dir, options: LogOptions(segmentBytes: 64 << 10))
        var batch = EntryBatch()
        batch.append(term: 1, payload: StandardPayload.make(index: 12, size: 64))
        try log.append(batch)
        try log.close()

        try Metactl.run(["log", "verify", "--dir", dir], expect: 0)
        let text = try Metactl.run(["log", "verify", "--dir", dir, "--payload", "splitmix64"], expect: 1)
        XCTAssertTrue(text.lines.contains("payloadsChecked 11"), "\(text)")
        XCTAssertTrue(text.lines.contains { $0.hasPrefix("problem ") && $0.contains("index 11:") }, "\(text)")
        XCTAssertTrue(text.stderr.contains("index 11"), text.stderr)
    }

    func testErrorsExitNonZeroWithAMessageAndNeverTrap() throws {
        let scratch = try ScratchDirectory("verify-errors")
        defer { scratch.remove() }
        let missing = scratch.child("missing")
        for command in ["verify", "stat", "dump", "repair"] {
            let result = try Metactl.run(["log", command, "--dir", missing], expect: 2)
            XCTAssertTrue(result.stderr.contains("\(missing) is not a log directory"), "\(command): \(result)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing), "an inspecting command created the log")

        for arguments in [
            ["log", "verify"],
            ["log", "append", "--dir", scratch.child("x"), "--count", "5", "--entry-bytes", "10", "--sync", "sometimes"],
            ["log", "verify", "--dir", missing, "--payload", "zeros"],
            ["log", "truncate", "--dir", missing, "--after", "-3"],
        ] {
            let result = try Metactl.run(arguments)
            guard case let .exited(code) = result.exit, code != 0 else {
                XCTFail("\(arguments): \(result)")
                continue
            }
            XCTAssertFalse(result.stderr.isEmpty, "\(arguments): no message")
        }
        let negative = try Metactl.run(
            ["log", "append", "--dir", scratch.child("x"), "--count", "3", "--entry-bytes", "10", "--batch", "0"],
            expect: 2)
        XCTAssertEqual(negative.stderr, "metactl log append: --batch must be between 1 and 1048576, got 0\n")
        let tiny = try Metactl.run(
            ["log", "append", "--dir", scratch.child("y"), "--count", "3", "--entry-bytes", "10", "--segment-bytes", "100"],
            expect: 2)
        XCTAssertEqual(tiny.stderr, "metactl log append: --segment-bytes must be between 4096 and 2147483648, got 100\n")
        let huge = try Metactl.run(
            ["log", "append", "--dir", scratch.child("z"), "--count", "1", "--entry-bytes", "99999999999"], expect: 2)
        XCTAssertEqual(huge.stderr, "metactl log append: --entry-bytes must be between 0 and 67108864, got 99999999999\n")
        let wide = try Metactl.run(
            ["log", "append", "--dir", scratch.child("z"), "--count", "1", "--entry-bytes", "1000000",
             "--batch", "99999"], expect: 2)
        XCTAssertTrue(wide.stderr.contains("exceeds 1073741824 bytes per batch"), "\(wide)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: scratch.child("z")), "a refused append created the log")
        let small = scratch.child("small")
        try LogFixture.append(small, count: 3, entryBytes: 8)
        for command in ["truncate --after", "compact --through"] {
            let words = command.split(separator: " ").map(String.init)
            let overflow = try Metactl.run(["log", words[0], "--dir", small, words[1], "\(UInt64.max)"], expect: 2)
            XCTAssertEqual(
                overflow.stderr,
                "metactl log \(words[0]): \(words[1]) \(UInt64.max) is outside the log (first index 1, last index 3)\n")
        }
    }
}
