import Foundation
@testable import MetaLog
import XCTest

/// `LogOptions.prefaultBytes`: opening maps the page tables of the newest frames (newest segment first, up
/// to the budget), so reads of recent entries take no page faults; older segments stay lazy.
final class PrefaultTests: XCTestCase {
    /// The resident kilobytes of the mapping that starts at `address` (from /proc/self/smaps), or nil.
    private func residentKB(_ address: UnsafeRawPointer) -> Int? {
        // A proc file reports size 0: read it to its end (String(contentsOfFile:) stops at the first block).
        guard let handle = FileHandle(forReadingAtPath: "/proc/self/smaps") else { return nil }
        defer { try? handle.close() }
        guard let data = try? handle.readToEnd(), let text = String(data: data, encoding: .utf8) else { return nil }
        let start = String(UInt(bitPattern: address), radix: 16)
        var inMapping = false
        for line in text.split(separator: "\n") {
            if let dash = line.firstIndex(of: "-"), line[..<dash].allSatisfy(\.isHexDigit), line.contains(" ") {
                inMapping = line[..<dash] == start
            } else if inMapping && line.hasPrefix("Rss:") {
                return Int(line.split(separator: " ")[1])
            }
        }
        return nil
    }

    /// A closed log of five 1 MiB segments (four sealed) of 1,000-byte entries.
    private func makeLog(_ directory: String) throws -> Int {
        let log = try Log(directory: directory, options: LogOptions(segmentBytes: 1 << 20))
        var index: UInt64 = 1
        while log.segmentCount < 5 {
            try log.append(makeBatch(first: index, count: 64, size: 1000))
            index += 64
        }
        try log.close()
        return Int(index - 1)
    }

    func testOpeningMapsTheNewestFramesUpToTheBudget() throws {
        let directory = makeTemporaryDirectory(self)
        let last = try makeLog(directory)
        for budget in [0, 1 << 20, 256 << 20] {
            var options = LogOptions(segmentBytes: 1 << 20)
            options.prefaultBytes = budget
            let log = try Log(directory: directory, options: options)
            let segments = log.state.withReadLock { log.segments }
            XCTAssertEqual(segments.count, 5)
            let resident = try segments.map { try XCTUnwrap(residentKB($0.map), "no smaps entry for \($0.name)") }
            // Newest first: the active segment's frames, then the newest sealed segment's (its tail when
            // the budget ends inside it), and so on. What the budget does not reach stays lazy: only the
            // pages opening read (header, footer; fault-around maps 64 KiB around each) are resident.
            var left = budget
            for k in stride(from: 4, through: 0, by: -1) {
                let want = min(left, segments[k].dataEnd)
                left -= want
                if want > 0 {
                    XCTAssertGreaterThanOrEqual(resident[k], want / 1024 - 4, "budget \(budget), segment \(k): mapped")
                } else if k < 4 {
                    XCTAssertLessThan(resident[k], segments[k].dataEnd / 1024 * 6 / 10, "budget \(budget), segment \(k): lazy")
                }
            }
            XCTAssertEqual(try log.entry(at: UInt64(last)).payload, testPayload(UInt64(last), size: 1000))
            try log.close()
        }
    }
}
