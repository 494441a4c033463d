import Foundation
import MetaLog
import XCTest

/// Black-box tests of `metactl log append|dump|stat|truncate|compact|repair`.
final class LogMaintenanceTests: XCTestCase {
    private var scratch: ScratchDirectory?
    private var dir = ""

    override func setUpWithError() throws {
        let scratch = try ScratchDirectory("maint")
        self.scratch = scratch
        dir = scratch.child("log")
    }

    override func tearDown() {
        scratch?.remove()
    }

    private func lastIndex(_ report: [String: Any]) -> UInt64? { JSON.uint64(report["lastIndex"]) }

    private func verifyPayloads(expectFirst first: UInt64, last: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
        let report = try Metactl.json(
            ["log", "verify", "--dir", dir, "--payload", "splitmix64", "--json"], file: file, line: line)
        XCTAssertEqual(JSON.uint64(report["firstIndex"]), first, "\(report)", file: file, line: line)
        XCTAssertEqual(JSON.uint64(report["lastIndex"]), last, "\(report)", file: file, line: line)
        XCTAssertEqual(JSON.uint64(report["payloadsChecked"]), last - first + 1, "\(report)", file: file, line: line)
        XCTAssertEqual((report["problems"] as? [Any])?.count, 0, "\(report)", file: file, line: line)
    }

    private static func expectedDumpLine(_ index: UInt64, size: Int) -> String {
        let payload = StandardPayload.make(index: index, size: size)
        let crc = String(format: "%08x", CRC32C.checksum(payload))
        let head = payload.prefix(16).map { String(format: "%02x", $0) }.joined()
        return "\(index) 1 0 \(size) \(crc) \(head)"
    }

    func testAppendModesPrintEveryDurablePoint() throws {
        let always = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "10", "--entry-bytes", "33", "--batch", "4", "--sync", "always",
             "--segment-bytes", "65536"],
            expect: 0)
        XCTAssertEqual(always.lines, ["synced 4", "synced 8", "synced 10"])
        let none = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "25", "--entry-bytes", "0", "--batch", "4", "--sync", "none"],
            expect: 0)
        XCTAssertEqual(none.lines, ["synced 35"])
        let group = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "1000", "--entry-bytes", "120", "--batch", "7", "--sync", "group",
             "--segment-bytes", "65536"],
            expect: 0)
        let synced = group.lines.compactMap { $0.hasPrefix("synced ") ? UInt64($0.dropFirst(7)) : nil }
        XCTAssertEqual(synced.count, group.lines.count, "\(group)")
        XCTAssertEqual(synced, synced.sorted(), "\(group)")
        XCTAssertEqual(synced.last, 1035, "\(group)")
        XCTAssertGreaterThan(synced.first ?? 0, 35)
        try verifyPayloads(expectFirst: 1, last: 1035)
        let log = try Log(directory: dir, options: LogOptions(segmentBytes: 64 << 10))
        XCTAssertEqual(try log.entry(at: 8).payload, StandardPayload.make(index: 8, size: 33))
        XCTAssertEqual(try log.entry(at: 20).payload, [])
        XCTAssertEqual(try log.entry(at: 1035).payload, StandardPayload.make(index: 1035, size: 120))
        try log.close()
    }

    func testDumpPrintsExactEntries() throws {
        try LogFixture.append(dir, count: 20, entryBytes: 40)
        let text = try Metactl.run(["log", "dump", "--dir", dir, "--from", "5", "--count", "3"], expect: 0)
        XCTAssertEqual(text.lines, [
            "index term kind size crc32c head",
            Self.expectedDumpLine(5, size: 40), Self.expectedDumpLine(6, size: 40), Self.expectedDumpLine(7, size: 40),
        ])
        let all = try Metactl.run(["log", "dump", "--dir", dir], expect: 0)
        XCTAssertEqual(all.lines.count, 21)
        XCTAssertEqual(all.lines.last, Self.expectedDumpLine(20, size: 40))

        let json = try Metactl.run(["log", "dump", "--dir", dir, "--from", "19", "--json"], expect: 0)
        let objects = try json.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] ?? [:] }
        XCTAssertEqual(objects.count, 2)
        let payload = StandardPayload.make(index: 19, size: 40)
        XCTAssertEqual(JSON.int(objects.first?["index"]), 19)
        XCTAssertEqual(JSON.int(objects.first?["term"]), 1)
        XCTAssertEqual(JSON.int(objects.first?["kind"]), 0)
        XCTAssertEqual(JSON.int(objects.first?["size"]), 40)
        XCTAssertEqual(objects.first?["crc32c"] as? String, String(format: "%08x", CRC32C.checksum(payload)))
        XCTAssertEqual(objects.first?["head"] as? String, payload.prefix(16).map { String(format: "%02x", $0) }.joined())

        let outside = try Metactl.run(["log", "dump", "--dir", dir, "--from", "21"], expect: 2)
        XCTAssertEqual(outside.stderr, "metactl log dump: --from 21 is outside the log (first index 1, last index 20)\n")
    }

    func testStatShowsSegmentsRangesAndHardState() throws {
        try LogFixture.append(dir, count: 500, entryBytes: 200)
        let log = try Log(directory: dir, options: LogOptions(segmentBytes: 64 << 10))
        try log.saveHardState(HardState(term: 7, vote: 3, commit: 42, context: [1, 2, 3, 4, 5]))
        try log.close()

        let stat = try Metactl.run(["log", "stat", "--dir", dir], expect: 0)
        let lines = stat.lines
        XCTAssertEqual(Array(lines.prefix(4)), ["directory \(dir)", "firstIndex 1", "lastIndex 500", "entries 500"])
        let segmentLines = lines.filter { $0.hasPrefix("segment ") }
        XCTAssertGreaterThan(segmentLines.count, 1)
        XCTAssertTrue(lines.contains("segments \(segmentLines.count)"), "\(stat)")
        var next: UInt64 = 1
        for (position, line) in segmentLines.enumerated() {
            // segment <file> base <b> entries <first>...<last> (<n>) bytes <size> sealed|active
            let words = line.split(separator: " ").map(String.init)
            XCTAssertEqual(words.count, 10, line)
            guard words.count == 10 else { continue }
            let range = words[5].components(separatedBy: "...").compactMap { UInt64($0) }
            XCTAssertEqual(range.first, next, line)
            XCTAssertEqual(words[6], "(\((range.last ?? 0) - (range.first ?? 0) + 1))", line)
            XCTAssertEqual(words[9], position == segmentLines.count - 1 ? "active" : "sealed", line)
            XCTAssertGreaterThan(Int(words[8]) ?? 0, 0, line)
            next = (range.last ?? 0) + 1
        }
        XCTAssertEqual(next, 501)
        XCTAssertTrue(lines.contains("tornTail none"), "\(stat)")
        XCTAssertEqual(lines.last, "hardState term 7 vote 3 commit 42 context 5 bytes")
    }

    func testTruncateDropsTheSuffixAndAppendContinues() throws {
        try LogFixture.append(dir, count: 1000, entryBytes: 100)
        let truncate = try Metactl.run(["log", "truncate", "--dir", dir, "--after", "123"], expect: 0)
        XCTAssertEqual(truncate.lines, ["dropped 124...1000 (877 entries); lastIndex 123"])
        try verifyPayloads(expectFirst: 1, last: 123)
        let append = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "5", "--entry-bytes", "100", "--batch", "5"], expect: 0)
        XCTAssertEqual(append.lines, ["synced 128"])
        try verifyPayloads(expectFirst: 1, last: 128)

        let same = try Metactl.run(["log", "truncate", "--dir", dir, "--after", "128"], expect: 0)
        XCTAssertEqual(same.lines, ["nothing dropped; lastIndex 128"])
        let outside = try Metactl.run(["log", "truncate", "--dir", dir, "--after", "2000"], expect: 2)
        XCTAssertEqual(outside.stderr, "metactl log truncate: --after 2000 is outside the log (first index 1, last index 128)\n")
        try verifyPayloads(expectFirst: 1, last: 128)
    }

    func testCompactDropsWholeSegmentsAndKeepsTheFirstIndex() throws {
        try LogFixture.append(dir, count: 1000, entryBytes: 100)
        let before = try LogFixture.segments(dir)
        XCTAssertGreaterThan(before.count, 2)
        var sizes: [String: Int] = [:]
        for segment in before {
            sizes[segment.name] = try FileManager.default.attributesOfItem(atPath: segment.path)[.size] as? Int
        }
        let compact = try Metactl.run(["log", "compact", "--dir", dir, "--through", "600"], expect: 0)
        XCTAssertEqual(compact.lines, ["firstIndex 601 lastIndex 1000"])
        try verifyPayloads(expectFirst: 601, last: 1000)
        let after = try LogFixture.segments(dir)
        // Exactly the segments wholly at or below 600 are gone.
        XCTAssertEqual(after.map(\.name), before.filter { $0.lastIndex > 600 }.map(\.name))
        for segment in before where segment.lastIndex <= 600 {
            XCTAssertFalse(FileManager.default.fileExists(atPath: segment.path), segment.path)
        }
        let outside = try Metactl.run(["log", "dump", "--dir", dir, "--from", "600"], expect: 2)
        XCTAssertTrue(outside.stderr.contains("--from 600 is outside the log (first index 601"), outside.stderr)
        let first = try Metactl.run(["log", "dump", "--dir", dir, "--count", "1"], expect: 0)
        XCTAssertEqual(first.lines.last, Self.expectedDumpLine(601, size: 100))
        let stat = try Metactl.run(["log", "stat", "--dir", dir], expect: 0)
        XCTAssertTrue(stat.lines.contains("firstIndex 601") && stat.lines.contains("entries 400"), "\(stat)")
        // The dropped segments' files (up to two) are kept as spares for recycling: shown apart, by name and size.
        let removed = before.filter { $0.lastIndex <= 600 }
        XCTAssertGreaterThanOrEqual(removed.count, 1)
        let spares = removed.prefix(2).map { "spare-" + $0.name + ".tmp" }
        let spareBytes = removed.prefix(2).reduce(0) { $0 + (sizes[$1.name] ?? -1) }
        XCTAssertTrue(stat.lines.contains("spares \(spares.count) bytes \(spareBytes)"), "\(stat)")
        XCTAssertEqual(stat.lines.filter { $0.hasPrefix("spare ") }, spares.map { "spare " + $0 })
        let verify = try Metactl.run(["log", "verify", "--dir", dir, "--json"], expect: 0)
        let object = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(verify.stdout.utf8)) as? [String: Any])
        XCTAssertEqual(object["spareFiles"] as? [String], spares)
        XCTAssertEqual(object["spareBytes"] as? Int, spareBytes)
        try Metactl.run(["log", "compact", "--dir", dir, "--through", "5000"], expect: 2)
    }

    func testRepairCutsAtTheFirstCorruptionAndReportsExactlyWhatItDropped() throws {
        try LogFixture.append(dir, count: 600, entryBytes: 200)
        let segments = try LogFixture.segments(dir)
        XCTAssertGreaterThan(segments.count, 2, "\(segments)")
        let target = segments[1]
        let index = target.firstIndex + 5
        guard let offset = try LogFixture.payloadOffset(of: index, entryBytes: 200, in: target.path) else {
            return XCTFail("payload of \(index) not found in \(target.path)")
        }
        try LogFixture.flipByte(at: offset + 17, in: target.path)
        try Metactl.run(["log", "verify", "--dir", dir], expect: 1)

        let repair = try Metactl.run(["log", "repair", "--dir", dir], expect: 0)
        let lines = repair.lines
        XCTAssertEqual(
            lines.first, "cut at \(target.name) offset \(offset - 32) index \(index): frame checksum mismatch", "\(repair)")
        XCTAssertTrue(
            lines.contains { $0.hasPrefix("dropped \(index)...600 (\(600 - index + 1) entries, ") }, "\(repair)")
        XCTAssertTrue(lines.contains { $0.hasPrefix("files ") && $0.contains(target.name) }, "\(repair)")
        guard let copyLine = lines.first(where: { $0.hasPrefix("copy ") }) else { return XCTFail("\(repair)") }
        let copy = String(copyLine.dropFirst(5))
        let copyPath = copy.hasPrefix("/") ? copy : (dir as NSString).appendingPathComponent(copy)
        let kept = try FileManager.default.contentsOfDirectory(atPath: copyPath)
        XCTAssertFalse(kept.isEmpty, "the copy of the cut bytes is empty: \(copyPath)")
        // The copy holds exactly the bytes the report says were dropped.
        let copied = try kept.reduce(0) { sum, name in
            let attributes = try FileManager.default.attributesOfItem(atPath: (copyPath as NSString).appendingPathComponent(name))
            return sum + ((attributes[.size] as? NSNumber)?.intValue ?? 0)
        }
        let droppedLine = lines.first { $0.hasPrefix("dropped ") } ?? ""
        XCTAssertTrue(droppedLine.hasSuffix(" entries, \(copied) bytes)"), "\(droppedLine) vs \(copied) bytes copied")

        try verifyPayloads(expectFirst: 1, last: index - 1)
        let append = try Metactl.run(
            ["log", "append", "--dir", dir, "--count", "10", "--entry-bytes", "200", "--batch", "10"], expect: 0)
        XCTAssertEqual(append.lines, ["synced \(index + 9)"])
        try verifyPayloads(expectFirst: 1, last: index + 9)
        let again = try Metactl.run(["log", "repair", "--dir", dir], expect: 0)
        XCTAssertEqual(again.lines, ["nothing to repair in \(dir)"])
    }

    /// A second process cannot change a log another process has open; it gets a clear error.
    func testLockedLogIsAClearError() throws {
        let child = try Metactl.start([
            "log", "append", "--dir", dir, "--count", "100000000", "--entry-bytes", "64", "--sync", "always",
        ])
        defer {
            child.kill()
            _ = child.finish()
        }
        let giveUp = Date().addingTimeInterval(20)
        while child.stdout.isEmpty && Date() < giveUp && child.pump(timeout: 0.05) {}
        XCTAssertFalse(child.stdout.isEmpty, child.stderrText)
        let truncate = try Metactl.run(["log", "truncate", "--dir", dir, "--after", "1"], expect: 2)
        XCTAssertTrue(truncate.stderr.lowercased().contains("lock"), "\(truncate)")
        let append = try Metactl.run(["log", "append", "--dir", dir, "--count", "1", "--entry-bytes", "1"], expect: 2)
        XCTAssertTrue(append.stderr.lowercased().contains("lock"), "\(append)")
    }
}
