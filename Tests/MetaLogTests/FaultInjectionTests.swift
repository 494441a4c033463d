import Foundation
@testable import MetaLog
import XCTest

final class FaultInjectionTests: XCTestCase {
    private func open(_ directory: String, _ fs: FaultyFileSystem, segmentBytes: Int = 64 << 10,
                      durability: Durability = .syncEveryAppend) throws -> Log {
        var options = LogOptions(segmentBytes: segmentBytes, durability: durability)
        options.fileSystem = fs
        return try Log(directory: directory, options: options)
    }

    private func assertFailed(_ body: () throws -> Void, file: StaticString = #filePath, line: UInt = #line) {
        do {
            try body()
            XCTFail("expected .failed", file: file, line: line)
        } catch LogError.failed {
        } catch {
            XCTFail("expected .failed, got \(error)", file: file, line: line)
        }
    }

    func testFailedFsyncFailStopsTheLogForEveryLaterCall() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        let log = try open(directory, fs)
        try log.append(makeBatch(first: 1, count: 5))
        fs.failSyncs = EIO
        assertFailed { try log.append(makeBatch(first: 6, count: 1)) }
        fs.failSyncs = nil  // the disk "recovers", but the log must not trust it again
        assertFailed { try log.append(makeBatch(first: 6, count: 1)) }
        assertFailed { _ = try log.entry(at: 1) }
        assertFailed { try log.sync() }
        assertFailed { try log.truncate(after: 2) }
        assertFailed { try log.removePrefix(through: 2) }
        assertFailed { try log.saveHardState(HardState(term: 1)) }
        try log.close()
        // Reopening recovers from what is on disk: the acknowledged entries are there.
        let reopened = try open(directory, FaultyFileSystem())
        XCTAssertGreaterThanOrEqual(reopened.lastIndex, 5)
        for index in UInt64(1)...5 { XCTAssertEqual(try reopened.entry(at: index).payload, testPayload(index)) }
    }

    func testFailedFsyncInGroupCommitFailsEveryWaiter() throws {
        let fs = FaultyFileSystem()
        let log = try open(makeTemporaryDirectory(self), fs, durability: .groupCommit)
        try log.append(makeBatch(first: 1, count: 1))
        fs.failSyncs = EIO
        let failures = Counter()
        onThreads(8) { _ in
            do { try log.append(makeBatch(first: 0, count: 2)) } catch LogError.failed {
                failures.increment()
            } catch {}
        }
        XCTAssertEqual(failures.value, 8)
        assertFailed { _ = try log.entry(at: 1) }
    }

    func testFailedWriteFailStops() throws {
        let fs = FaultyFileSystem()
        let log = try open(makeTemporaryDirectory(self), fs)
        try log.append(makeBatch(first: 1, count: 3))
        fs.failWrites = EIO
        assertFailed { try log.append(makeBatch(first: 4, count: 1)) }
        fs.failWrites = nil
        assertFailed { try log.append(makeBatch(first: 4, count: 1)) }
    }

    func testFailedRenameOfHardStateKeepsTheOldOne() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        let log = try open(directory, fs)
        try log.saveHardState(HardState(term: 1, vote: 1, commit: 0))
        fs.failRenames = EIO
        assertThrows(.io(operation: "rename", file: directory + "/hardstate.tmp", errno: EIO)) {
            try log.saveHardState(HardState(term: 2, vote: 2, commit: 0))
        }
        XCTAssertEqual(log.hardState, HardState(term: 1, vote: 1, commit: 0))
        fs.failRenames = nil
        try log.saveHardState(HardState(term: 3, vote: 1, commit: 2))
        try log.close()
        XCTAssertEqual(try open(directory, FaultyFileSystem()).hardState, HardState(term: 3, vote: 1, commit: 2))
    }

    func testFailedRenameDuringRotationIsAnErrorAndTheLogStaysUsable() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        let log = try open(directory, fs, segmentBytes: 4096)
        try log.append(makeBatch(first: 1, count: 10, size: 100))
        fs.failRenames = EIO
        var index: UInt64 = 11
        var sawError = false
        for _ in 0..<20 {
            do {
                try log.append(makeBatch(first: index, count: 10, size: 100))
                index += 10
            } catch let LogError.io(operation, _, errno) {
                XCTAssertEqual(operation, "rename")
                XCTAssertEqual(errno, EIO)
                sawError = true
                break
            }
        }
        XCTAssertTrue(sawError)
        XCTAssertEqual(log.lastIndex, index - 1)
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory + "/" + SegmentFormat.fileName(id: 2, baseIndex: index) + ".tmp"))
        fs.failRenames = nil
        try log.append(makeBatch(first: index, count: 10, size: 100))
        try log.close()
        let reopened = try open(directory, FaultyFileSystem(), segmentBytes: 4096)
        XCTAssertEqual(reopened.lastIndex, index + 9)
        for i in UInt64(1)...(index + 9) { XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 100)) }
    }

    func testNoSpaceIsAClearErrorAndTheLogStaysConsistentAndUsable() throws {
        for durability in [Durability.syncEveryAppend, .manual] {
            let directory = makeTemporaryDirectory(self)
            let fs = FaultyFileSystem()
            let log = try open(directory, fs, segmentBytes: 8192, durability: durability)
            fs.spaceLeft = 40_000
            var index: UInt64 = 1
            var noSpace = 0
            while noSpace < 3 {
                do {
                    let range = try log.append(makeBatch(first: index, count: 7, size: 90))
                    XCTAssertEqual(range, index...(index + 6))
                    index += 7
                } catch let LogError.noSpace(file) {
                    XCTAssertTrue(file.hasSuffix(".seg") || file.hasSuffix(".seg.tmp"), file)
                    XCTAssertEqual(log.lastIndex, index - 1, "a failed append adds nothing")
                    noSpace += 1
                    if noSpace < 3 { fs.spaceLeft = 3000 }  // a little space: a partial write
                }
            }
            for i in UInt64(1)..<index { XCTAssertEqual(try log.entry(at: i).payload, testPayload(i, size: 90)) }
            fs.spaceLeft = nil  // space freed
            try log.append(makeBatch(first: index, count: 3, size: 20))
            try log.close()
            let reopened = try open(directory, FaultyFileSystem(), segmentBytes: 8192)
            XCTAssertEqual(reopened.lastIndex, index + 2, "\(durability)")
            for i in UInt64(1)..<index { XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 90)) }
            for i in index...(index + 2) { XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 20)) }
            try reopened.close()
            XCTAssertEqual(try LogInspector.verify(directory: directory).problems, [])
        }
    }
}
