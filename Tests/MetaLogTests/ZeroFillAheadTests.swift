import XCTest
@testable import MetaLog

/// Sync modes zero-fill ahead of the write position so that an fdatasync flushes data, not extent
/// conversions. The fill must stay ahead of every frame write and come in small steps: one big fill made
/// every ~100th sync flush a megabyte of zeros (append-sync-batch's p99 at ~10x raw-prealloc's).
final class ZeroFillAheadTests: XCTestCase {
    func testFramesAlwaysLandOnZeroedBytesAndTopUpsAreOneStep() throws {
        try checkZeroFill(durability: .syncEveryAppend, zeroFillAhead: nil)
    }

    /// A manual log synced after every few appends (MetaEngine's) asks for the fill and gets it.
    func testManualLogZeroFillsWhenAskedTo() throws {
        try checkZeroFill(durability: .manual, zeroFillAhead: true)
    }

    /// A manual log does not zero-fill by default (a bulk load synced once would write everything twice);
    /// a sync-mode log can turn it off.
    func testNoZeroFillInManualModeByDefaultOrWhenTurnedOff() throws {
        for (durability, flag) in [(Durability.manual, Bool?.none), (.syncEveryAppend, false)] {
            let directory = makeTemporaryDirectory(self)
            let fs = RecordingFileSystem()
            var options = LogOptions(segmentBytes: 8 << 20, durability: durability)
            options.zeroFillAhead = flag
            options.fileSystem = fs
            let log = try Log(directory: directory, options: options)
            var index: UInt64 = 1
            for _ in 0..<40 {
                try log.append(makeBatch(first: index, count: 64, size: 128))
                index += 64
            }
            try log.sync()
            try log.close()
            let zeroWrites = fs.recorded.filter { op in
                if case let .write(_, _, bytes) = op { return bytes.count >= 4096 && bytes.allSatisfy { $0 == 0 } }
                return false
            }
            XCTAssertEqual(zeroWrites.count, 0, "\(durability) zeroFillAhead \(String(describing: flag))")
        }
    }

    private func checkZeroFill(durability: Durability, zeroFillAhead: Bool?) throws {
        let directory = makeTemporaryDirectory(self)
        let fs = RecordingFileSystem()
        var options = LogOptions(segmentBytes: 8 << 20, durability: durability)
        options.zeroFillAhead = zeroFillAhead
        options.fileSystem = fs
        let step = options.zeroFillStepBytes
        let ahead = options.zeroFillAheadBytes
        XCTAssertEqual(step, 128 << 10)
        let log = try Log(directory: directory, options: options)
        // ~10 KiB per append (64 entries of 128 bytes + frame headers), 3 MiB in all: many top-ups.
        var index: UInt64 = 1
        for _ in 0..<300 {
            try log.append(makeBatch(first: index, count: 64, size: 128))
            index += 64
        }
        if durability == .manual { try log.sync() }
        try log.close()

        guard let segment = fs.recorded.compactMap({ op -> Int? in
            if case let .create(path, inode) = op, path.hasSuffix(".seg.tmp") || path.hasSuffix(".seg") { return inode }
            return nil
        }).first else { return XCTFail("no segment created") }
        var zeroedEnd: Int?  // end of the zero fill so far (it starts where the data starts)
        var zeroFills: [Int] = []
        var frameWrites = 0
        for op in fs.recorded {
            guard case let .write(inode, offset, bytes) = op, inode == segment else { continue }
            if bytes.allSatisfy({ $0 == 0 }) && bytes.count >= 4096 {
                zeroFills.append(bytes.count)
                XCTAssertLessThanOrEqual(offset, zeroedEnd ?? offset, "zero fill at \(offset) leaves unzeroed bytes before it")
                zeroedEnd = max(zeroedEnd ?? 0, offset + bytes.count)
            } else if offset > 0 {  // frames (the segment header at 0 comes before any fill)
                frameWrites += 1
                guard let zeroedEnd else { XCTFail("frame write at \(offset) before any zero fill"); continue }
                XCTAssertLessThanOrEqual(offset + bytes.count, zeroedEnd,
                                         "frame write [\(offset), \(offset + bytes.count)) past the zero fill")
                XCTAssertGreaterThanOrEqual(zeroedEnd - (offset + bytes.count), ahead - step,
                                            "less than the fill-ahead left after the frame write at \(offset)")
            }
        }
        XCTAssertGreaterThanOrEqual(frameWrites, 300, "one write per append (close may add its own)")
        XCTAssertGreaterThanOrEqual(zeroFills.count, (3 << 20) / step - 2, "3 MiB of frames need a top-up per step")
        XCTAssertLessThanOrEqual(zeroFills.first ?? 0, ahead + step, "first fill")
        XCTAssertEqual(zeroFills.dropFirst().filter { $0 > step }, [], "every top-up after the first is at most one step")
    }
}
