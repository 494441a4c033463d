import Foundation
@testable import MetaLog
import XCTest

/// One test per hole of issue 8, each failing on the code before its fix.
final class PowerLossHoleTests: XCTestCase {
    private func recorded(_ directory: String, _ fs: RecordingFileSystem, segmentBytes: Int = 8192,
                          durability: Durability = .syncEveryAppend) throws -> Log {
        var options = LogOptions(segmentBytes: segmentBytes, durability: durability)
        options.fileSystem = fs
        return try Log(directory: directory, options: options)
    }

    /// The reproduction of the issue, recovery side: a sealed last segment whose footer reached the disk
    /// but one page of its last (unsynced) frames did not. Opening cuts there as a torn tail instead of
    /// trusting the footer; reads, appends and verify then agree.
    func testSealedLastSegmentWithLostFramePagesOpensWithATornTail() throws {
        let directory = makeTemporaryDirectory(self)
        var log: Log! = try Log(directory: directory, options: LogOptions(segmentBytes: 65536, durability: .manual))
        var index: UInt64 = 1
        while log.segmentCount < 2 {
            try log.append(makeBatch(first: index, count: 4, size: 300))
            index += 4
        }
        log = nil
        let files = segmentFiles(directory)
        try FileManager.default.removeItem(atPath: directory + "/" + files[1])  // its creation never reached the disk
        let path = directory + "/" + files[0]
        var bytes = readFile(path)
        // Lose one 4 KiB page in the middle of the last frames (page-cache pages written back out of order).
        let page = (bytes.count - 10_000) / 4096 * 4096
        for i in page..<(page + 4096) { bytes[i] = 0 }
        writeFile(path, bytes)
        log = try Log(directory: directory, options: LogOptions(segmentBytes: 65536))
        let torn = try XCTUnwrap(log.recovery.tornTail)
        XCTAssertLessThanOrEqual(torn.offset, Int64(page))
        let last = log.lastIndex
        XCTAssertLessThan(last, index - 1)
        for i in UInt64(1)...last { XCTAssertEqual(try log.entry(at: i).payload, testPayload(i, size: 300)) }
        try log.append(makeBatch(first: last + 1, count: 3, size: 300))
        try log.close()
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.lastIndex, last + 3)
    }

    /// Write side: a seal syncs the frames before it writes the footer.
    func testSealSyncsTheFramesBeforeWritingTheFooter() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = RecordingFileSystem()
        let log = try recorded(directory, fs, durability: .manual)
        var index: UInt64 = 1
        while log.segmentCount < 2 {
            try log.append(makeBatch(first: index, count: 3, size: 200))
            index += 3
        }
        let ops = fs.recorded
        // The footer write is the last write to the first segment's inode before it is trimmed.
        guard let created = ops.first(where: { if case let .create(path, _) = $0 { return path.hasSuffix(".seg.tmp") } else { return false } }),
            case let .create(_, inode) = created,
            let trim = ops.lastIndex(where: { if case let .truncate(i, size) = $0 { return i == inode && size > 0 } else { return false } }),
            let footer = ops[..<trim].lastIndex(where: { if case let .write(i, _, _) = $0 { return i == inode } else { return false } })
        else { return XCTFail("no seal recorded") }
        let lastFrameWrite = ops[..<footer].lastIndex(where: { if case let .write(i, _, _) = $0 { return i == inode } else { return false } })
        let syncBetween = ops[(lastFrameWrite ?? 0)..<footer].contains { if case let .fsync(i) = $0 { return i == inode } else { return false } }
        XCTAssertTrue(syncBetween, "frames written by appends must be synced before the footer is written")
    }

    /// Opening makes the directory (and the log directory's own entry in its parent) durable.
    func testOpenSyncsTheDirectoryAndItsParent() throws {
        let directory = makeTemporaryDirectory(self)
        try Log(directory: directory).close()
        let fs = RecordingFileSystem()
        _ = try recorded(directory, fs)
        let synced = fs.recorded.compactMap { op -> String? in if case let .syncDirectory(path) = op { return path } else { return nil } }
        XCTAssertTrue(synced.contains(directory), "\(synced)")
        XCTAssertTrue(synced.contains(Log.parent(of: directory)), "\(synced)")
    }

    /// A partial write under ENOSPC that put whole frames on disk: no crash revives them.
    func testFailedPartialWriteLeavesNoFramesToRevive() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        var options = LogOptions(segmentBytes: 65536)
        options.fileSystem = fs
        var log: Log! = try Log(directory: directory, options: options)
        try log.append(makeBatch(first: 1, count: 5, size: 100))
        fs.spaceLeft = 700  // the next batch's first frames fit, the rest does not
        assertThrows(.noSpace(file: Log.fileName(log.segments[0].path))) { try log.append(makeBatch(first: 6, count: 20, size: 100)) }
        XCTAssertEqual(log.lastIndex, 5)
        log = nil  // a crash right after the failed append
        let reopened = try Log(directory: directory)
        XCTAssertEqual(reopened.lastIndex, 5, "entries of the failed append came back")
        XCTAssertNil(reopened.recovery.tornTail)
    }

    /// The same under power loss: after the failed append returns, no crash state (a prefix of the pending
    /// partial write and cut, pages, a torn write) brings back an entry of it. Fails without the cut's
    /// fdatasync in the ENOSPC path (LogWriter.writeFrames): the partial write can reach the disk without
    /// the cut.
    func testFailedPartialWriteRevivesNothingAfterPowerLoss() throws {
        let scratch = PowerLossChecker.scratchRoot(self)
        let run = PowerLossRun(root: scratch + "/run")
        try FileManager.default.createDirectory(atPath: run.root, withIntermediateDirectories: true)
        var options = run.options(.syncEveryAppend, segmentBytes: 65536)
        options.zeroFillAheadBytes = 0  // the partial write is the frames' own write
        let log = try Log(directory: run.directory, options: options)
        try log.append(makeBatch(first: 1, count: 5, size: 100))
        run.fs.spaceLeft = 700  // the next batch's first frames fit, the rest does not
        assertThrows(.noSpace(file: Log.fileName(log.segments[0].path))) { try log.append(makeBatch(first: 6, count: 20, size: 100)) }
        XCTAssertEqual(log.lastIndex, 5)
        run.fs.spaceLeft = nil
        var model = CrashStates(root: run.root)
        for op in run.fs.recorded { model.apply(op) }
        var rng = SplitMix64(state: 9)
        var revived: [String] = []
        for choice in CrashStates.Choice.allCases {
            for _ in 0..<12 {
                let target = scratch + "/state"
                CrashStates.materialize(model.crashState(choice, &rng), root: run.root, target: target)
                let reopened = try Log(directory: target + "/log", options: LogOptions(segmentBytes: 65536))
                if reopened.lastIndex != 5 { revived.append("\(choice): last index \(reopened.lastIndex)") }
                for i in UInt64(1)...min(5, reopened.lastIndex) {
                    XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 100))
                }
                try reopened.close()
            }
        }
        XCTAssertEqual(revived, [], "entries of the failed append came back")
    }

    /// A removePrefix whose unlinks reached the disk only in part leaves gaps among segments below the
    /// first index: opening skips them instead of refusing the log.
    func testInterruptedRemovePrefixLeavesGapsThatOpeningSkips() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        var index: UInt64 = 1
        while log.segmentCount < 7 {
            try log.append(makeBatch(first: index, count: 4, size: 100))
            index += 4
        }
        let files = segmentFiles(directory)
        let saved = files.map { readFile(directory + "/" + $0) }
        let through = try XCTUnwrap(SegmentFormat.parseFileName(files[5])).baseIndex + 1
        try log.removePrefix(through: through)
        try log.close()
        // Only the unlinks of segments 0 and 2 reached the disk: 1, 3 and 4 are back.
        for k in [1, 3, 4] { writeFile(directory + "/" + files[k], saved[k]) }
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 4096))
        XCTAssertEqual(reopened.firstIndex, through + 1)
        XCTAssertEqual(reopened.lastIndex, index - 1)
        for i in (through + 1)..<index { XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 100)) }
        XCTAssertEqual(segmentFiles(directory).count, 2, "the leftovers were deleted")
    }

    /// truncate(after:) deleting several segments makes each unlink (or rename to a spare, for the sealed
    /// ones `recycleSegments` keeps) durable before the next, newest first.
    func testTruncateMakesEachUnlinkDurableBeforeTheNext() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = RecordingFileSystem()
        let log = try recorded(directory, fs, segmentBytes: 4096)
        var index: UInt64 = 1
        while log.segmentCount < 5 {
            try log.append(makeBatch(first: index, count: 4, size: 100))
            index += 4
        }
        let before = fs.recorded.count
        try log.truncate(after: 3)
        let ops = fs.recorded[before...].filter {
            switch $0 {
            case .unlink, .rename, .syncDirectory: return true
            default: return false
            }
        }
        var removed: [String] = []
        var spares: [String] = []
        for (k, op) in ops.enumerated() {
            let path: String
            switch op {
            case .unlink(let p): path = p
            case .rename(let from, let to):
                path = from
                spares.append(to)
            default: continue
            }
            removed.append(path)
            guard k + 1 < ops.count, case .syncDirectory = ops[k + 1] else { return XCTFail("removal of \(path) not followed by a directory fsync") }
        }
        XCTAssertEqual(removed.count, 4)
        XCTAssertEqual(removed, removed.sorted().reversed(), "newest first")
        // The active segment is unlinked; the next two (sealed) are kept as spares, the last unlinked.
        XCTAssertEqual(spares.map { ($0 as NSString).lastPathComponent },
                       removed[1...2].map { "spare-" + ($0 as NSString).lastPathComponent + ".tmp" })
    }

    /// `metactl log verify` (LogInspector.verify) and open agree on a last segment whose footer write was
    /// torn: both call it a torn tail at the end of the last frame.
    func testVerifyAndOpenAgreeOnATornFooter() throws {
        let directory = makeTemporaryDirectory(self)
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 8192))
        var index: UInt64 = 1
        while log.segmentCount < 2 {
            try log.append(makeBatch(first: index, count: 4, size: 150))
            index += 4
        }
        try log.close()
        let files = segmentFiles(directory)
        try FileManager.default.removeItem(atPath: directory + "/" + files[1])
        let path = directory + "/" + files[0]
        var bytes = readFile(path)
        guard case let .valid(offsets, footerStart) = bytes.withUnsafeBytes({ Footer.decode($0.baseAddress!, fileSize: $0.count, baseIndex: 1) }) else {
            return XCTFail("no footer")
        }
        for i in footerStart..<(footerStart + 8) { bytes[i] = 0 }  // the first sector of the footer write was lost
        writeFile(path, bytes)
        let report = try LogInspector.verify(directory: directory)
        XCTAssertEqual(report.problems, [])
        XCTAssertEqual(report.tornTailOffset, Int64(footerStart))
        XCTAssertEqual(report.lastIndex, UInt64(offsets.count))
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 8192))
        XCTAssertEqual(reopened.recovery.tornTail?.offset, Int64(footerStart))
        XCTAssertEqual(reopened.lastIndex, report.lastIndex)
    }
}
