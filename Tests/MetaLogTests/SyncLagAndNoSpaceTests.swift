import Foundation
@testable import MetaLog
import XCTest

/// Torn tails of multi-entry unsynced runs (sync lag > 1), damaged sync markers, ENOSPC in group commit,
/// rotation and truncate, and readers that really overlap the writer.
final class SyncLagAndNoSpaceTests: XCTestCase {
    /// Cuts the last segment at every offset of the last `span` bytes of frames, three ways (file ends,
    /// zeros follow, garbage follows), and checks that exactly the complete frames before the cut survive.
    /// `tornFrom` is the first entry of the run the cut may tear (written with sync lags 1, 2, ...).
    private func everyCut(durability: Durability, tornFrom: UInt64, build: (Log) throws -> Void,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = makeTemporaryDirectory(self)
        let options = LogOptions(segmentBytes: 8 << 10, durability: durability)
        var log: Log! = try Log(directory: directory, options: options)
        try build(log)
        let segment = try XCTUnwrap(log.segments.last)
        let name = segment.name
        let offsets = segment.offsets.map(Int.init)
        let base = segment.baseIndex
        var ends: [Int] = []
        for (k, offset) in offsets.enumerated() {
            ends.append(offset + SegmentFormat.frameSize(try log.entry(at: base + UInt64(k)).payload.count))
        }
        let last = log.lastIndex
        log = nil  // a crash: no close, no final marker
        let original = readFile(directory + "/" + name)
        let firstUnsynced = Int(tornFrom - base)
        XCTAssertGreaterThan(last - tornFrom, 3, "a multi-entry run", file: file, line: line)
        XCTAssertGreaterThan(UInt64(try XCTUnwrap(ends.last)), 0)
        var cases = 0
        for cut in offsets[firstUnsynced]...ends[ends.count - 1] {
            for variant in 0..<3 {
                let copy = makeTemporaryDirectory(self)
                try FileManager.default.copyItem(atPath: directory, toPath: copy)
                var bytes = original
                switch variant {
                case 0: bytes.removeSubrange(cut...)
                case 1: for i in cut..<bytes.count { bytes[i] = 0 }
                default: for i in cut..<min(bytes.count, ends[ends.count - 1] + 64) { bytes[i] ^= 0x5A }
                }
                writeFile(copy + "/" + name, bytes)
                let reopened = try Log(directory: copy, options: options)
                // Zeros over a frame's padding leave it whole; otherwise a frame survives if it ends by the cut.
                var survivors = base - 1
                for (k, end) in ends.enumerated() {
                    let payload = try? reopened.entry(at: base + UInt64(k)).payload.count
                    let unpadded = offsets[k] + SegmentFormat.frameHeaderSize + (payload ?? Int.max / 2)
                    if end <= cut || (variant == 1 && unpadded <= cut) { survivors = base + UInt64(k) } else { break }
                }
                XCTAssertEqual(reopened.lastIndex, survivors, "cut at \(cut), variant \(variant)", file: file, line: line)
                if variant == 0 { try reopened.append(makeBatch(first: reopened.lastIndex + 1, count: 1)) }
                try reopened.close()
                try FileManager.default.removeItem(atPath: copy)
                cases += 1
            }
        }
        XCTAssertGreaterThan(cases, 600, file: file, line: line)
    }

    /// Group commit: each group's frames carry sync lags 1...n; the last group is torn anywhere.
    func testTornTailAtEveryOffsetOfAGroupCommitBatch() throws {
        try everyCut(durability: .groupCommit, tornFrom: 55) { log in
            for first in stride(from: UInt64(1), to: 60, by: 6) { try log.append(makeBatch(first: first, count: 6, size: 40)) }
            XCTAssertEqual(log.segmentCount, 1)
        }
    }

    /// Manual: entries written after the last sync have growing sync lags; torn anywhere among them.
    func testTornTailAtEveryOffsetOfUnsyncedManualAppends() throws {
        try everyCut(durability: .manual, tornFrom: 11) { log in
            try log.append(makeBatch(first: 1, count: 10, size: 30))
            try log.sync()
            for first in stride(from: UInt64(11), to: 23, by: 3) { try log.append(makeBatch(first: first, count: 3, size: 30)) }
        }
    }

    /// A damaged sync marker followed by a later marker that proves the sync is corruption at the marker;
    /// a damaged last marker is a torn tail that loses no entry.
    func testEveryByteFlipOfASyncMarker() throws {
        let directory = makeTemporaryDirectory(self)
        let options = LogOptions(segmentBytes: 64 << 10, durability: .manual)
        let log = try Log(directory: directory, options: options)
        try log.append(makeBatch(first: 1, count: 5, size: 20))
        try log.sync()  // marker for 5 after frame 5
        try log.append(makeBatch(first: 6, count: 5, size: 20))
        try log.close()  // marker for 10 at the end
        let name = try XCTUnwrap(segmentFiles(directory).first)
        let path = directory + "/" + name
        let original = readFile(path)
        let frame = SegmentFormat.frameSize(20)
        let firstMarker = SegmentFormat.headerSize + 5 * frame
        let lastMarker = original.count - SegmentFormat.frameHeaderSize
        for offset in 0..<SegmentFormat.frameHeaderSize {
            var bytes = original
            bytes[firstMarker + offset] ^= 0x10
            writeFile(path, bytes)
            let found = corruption { try Log(directory: directory, options: options) }
            XCTAssertEqual(found?.offset, Int64(firstMarker), "flip at marker byte \(offset)")
            XCTAssertEqual(found?.index, 6)
            bytes = original
            bytes[lastMarker + offset] ^= 0x10
            writeFile(path, bytes)
            let reopened = try Log(directory: directory, options: options)
            XCTAssertEqual(reopened.lastIndex, 10, "flip at last marker byte \(offset)")
            XCTAssertEqual(reopened.recovery.tornTail?.offset, Int64(lastMarker))
            try reopened.close()
        }
    }

    private func faulty(_ directory: String, _ fs: FaultyFileSystem, segmentBytes: Int, durability: Durability) throws -> Log {
        var options = LogOptions(segmentBytes: segmentBytes, durability: durability)
        options.fileSystem = fs
        return try Log(directory: directory, options: options)
    }

    /// ENOSPC while eight threads group-commit: failed appends add nothing, successful ones are exact,
    /// the log keeps working once space is freed and reopens to the same entries.
    func testNoSpaceDuringGroupCommit() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        fs.syncDelayMicroseconds = 300
        let log = try faulty(directory, fs, segmentBytes: 16 << 10, durability: .groupCommit)
        fs.spaceLeft = 60_000
        final class Written: @unchecked Sendable {
            let lock = NSLock()
            var entries: [UInt64: [UInt8]] = [:]
        }
        let box = Written()
        let failures = Counter()
        onThreads(8) { thread in
            for round in 0..<40 {
                var batch = EntryBatch()
                let payload = StandardPayload.make(index: UInt64(thread * 1000 + round), size: 150)
                batch.append(term: 1, payload: payload)
                do {
                    let range = try log.append(batch)
                    box.lock.withLock { box.entries[range.lowerBound] = payload }
                } catch LogError.noSpace {
                    failures.increment()
                } catch {
                    XCTFail("\(error)")
                }
            }
        }
        let written = box.entries
        XCTAssertGreaterThan(failures.value, 0, "space ran out")
        XCTAssertEqual(UInt64(written.count), log.lastIndex, "only successful appends are in the log")
        fs.spaceLeft = nil
        try log.append(makeBatch(first: log.lastIndex + 1, count: 1))
        try log.close()
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 16 << 10))
        XCTAssertEqual(reopened.lastIndex, UInt64(written.count) + 1)
        for (index, payload) in written { XCTAssertEqual(try reopened.entry(at: index).payload, payload) }
    }

    /// ENOSPC when rotation creates the next segment, and when truncate writes its record.
    func testNoSpaceDuringRotationAndTruncate() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = FaultyFileSystem()
        let log = try faulty(directory, fs, segmentBytes: 8192, durability: .syncEveryAppend)
        var next: UInt64 = 1
        while log.segmentCount < 3 {
            try log.append(makeBatch(first: next, count: 4, size: 100))
            next += 4
        }
        // Fill the active segment, then leave no room to preallocate the next one.
        fs.spaceLeft = 1000
        var rotationFailed = false
        for _ in 0..<40 {
            do {
                try log.append(makeBatch(first: next, count: 4, size: 100))
                next += 4
            } catch let LogError.noSpace(file) {
                rotationFailed = file.hasSuffix(".seg.tmp") || file.hasSuffix(".seg")
                break
            }
        }
        XCTAssertTrue(rotationFailed)
        XCTAssertEqual(log.lastIndex, next - 1)
        XCTAssertTrue(segmentFiles(directory).allSatisfy { !$0.hasSuffix(".tmp") })
        // Truncate into the middle of the active segment with no space for its record.
        fs.spaceLeft = 0
        let target = next - 3
        assertThrows(.noSpace(file: Log.fileName(log.segments.last!.path))) { try log.truncate(after: target) }
        XCTAssertGreaterThanOrEqual(log.lastIndex, target)
        for i in UInt64(1)...log.lastIndex { XCTAssertEqual(try log.entry(at: i).payload, testPayload(i, size: 100)) }
        fs.spaceLeft = nil
        try log.truncate(after: target)
        try log.append(makeBatch(first: target + 1, count: 2, size: 100))
        try log.close()
        let reopened = try Log(directory: directory, options: LogOptions(segmentBytes: 8192))
        XCTAssertEqual(reopened.lastIndex, target + 2)
        for i in UInt64(1)...(target + 2) { XCTAssertEqual(try reopened.entry(at: i).payload, testPayload(i, size: 100)) }
        try reopened.close()
        XCTAssertEqual(try LogInspector.verify(directory: directory).problems, [])
    }

    /// Readers really overlap the writer: every fdatasync of an append waits (a barrier, not a sleep)
    /// until the reader threads have completed reads meanwhile, so reads run while appends, rotations and
    /// truncations are in progress; every read is exact.
    func testReadersOverlapTheWriterAtABarrier() throws {
        let directory = makeTemporaryDirectory(self)
        let fs = BarrierFileSystem()
        var options = LogOptions(segmentBytes: 8192, durability: .syncEveryAppend)
        options.fileSystem = fs
        let log = try Log(directory: directory, options: options)
        try log.append(makeBatch(first: 1, count: 20, size: 60))
        fs.arm()
        let stop = Counter()
        let wrong = Counter()
        let done = DispatchSemaphore(value: 0)
        for reader in 0..<3 {
            Thread.detachNewThread {
                var rng = SplitMix64(state: UInt64(reader) + 11)
                while stop.value == 0 {
                    let first = log.firstIndex
                    let last = log.lastIndex
                    if first <= last {
                        let index = UInt64.random(in: first...last, using: &rng)
                        do {
                            let entry = try log.entry(at: index)
                            if entry.payload != testPayload(index, size: 60) { wrong.increment() }
                        } catch LogError.compacted {
                        } catch LogError.unavailable {
                        } catch {
                            wrong.increment()
                        }
                    }
                    fs.readDone()
                }
                done.signal()
            }
        }
        var next: UInt64 = 21
        for round in 0..<60 {
            try log.append(makeBatch(first: next, count: 3, size: 60))
            next += 3
            if round % 20 == 19 {
                try log.truncate(after: next - 3)
                next -= 2
            }
        }
        stop.increment()
        fs.release()
        for _ in 0..<3 { done.wait() }
        XCTAssertEqual(wrong.value, 0)
        XCTAssertGreaterThanOrEqual(fs.overlappedSyncs, 60, "syncs that readers overlapped")
        XCTAssertGreaterThan(log.segmentCount, 2)
    }
}

/// The real file system whose fdatasync waits until readers have completed two reads since it started.
final class BarrierFileSystem: ForwardingFileSystem, @unchecked Sendable {
    private let real = PosixFileSystem()
    var base: any FileSystem { real }
    private let condition = NSCondition()
    private var reads = 0
    private var released = false
    private var armed = false
    private(set) var overlappedSyncs = 0

    /// From now on every fdatasync waits for readers.
    func arm() {
        condition.lock()
        armed = true
        condition.unlock()
    }

    func readDone() {
        condition.lock()
        reads += 1
        condition.broadcast()
        condition.unlock()
    }

    func release() {
        condition.lock()
        released = true
        condition.broadcast()
        condition.unlock()
    }

    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) {
        condition.lock()
        let start = reads
        while armed && reads < start + 2 && !released { condition.wait() }
        if armed && reads >= start + 2 { overlappedSyncs += 1 }
        condition.unlock()
        try real.fdatasync(fd, path: path)
    }

}
