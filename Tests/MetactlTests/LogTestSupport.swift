import Foundation
import MetaLog
import XCTest

/// Typed access to values parsed by JSONSerialization.
enum JSON {
    static func int(_ value: Any?) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        return number.intValue
    }

    static func uint64(_ value: Any?) -> UInt64? {
        guard let number = value as? NSNumber else { return nil }
        return number.uint64Value
    }

    static func objects(_ value: Any?) -> [[String: Any]] {
        value as? [[String: Any]] ?? []
    }
}

/// A segment as `metactl log verify --json` lists it.
struct ListedSegment {
    var path: String
    var name: String
    var firstIndex: UInt64
    var lastIndex: UInt64
    var sealed: Bool
}

/// Builds logs through `metactl log append` and damages their files at exact places.
enum LogFixture {
    /// Appends `count` standard entries of `entryBytes` (by default with one sync at the end) to a new
    /// log; checks that it printed `expectLines` lines, the last `synced <count>`.
    static func append(
        _ dir: String, count: Int, entryBytes: Int, segmentBytes: Int = 64 << 10, batch: Int = 16,
        sync: String = "none", expectLines: Int = 1, file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let result = try Metactl.run(
            [
                "log", "append", "--dir", dir, "--count", "\(count)", "--entry-bytes", "\(entryBytes)",
                "--batch", "\(batch)", "--sync", sync, "--segment-bytes", "\(segmentBytes)",
            ], expect: 0, file: file, line: line)
        XCTAssertEqual(result.lines.count, expectLines, "\(result)", file: file, line: line)
        XCTAssertEqual(result.lines.last, "synced \(count)", "\(result)", file: file, line: line)
    }

    /// The segments `metactl log verify --json` reports, in order.
    static func segments(_ dir: String, file: StaticString = #filePath, line: UInt = #line) throws -> [ListedSegment] {
        let report = try Metactl.json(["log", "verify", "--dir", dir, "--json"], file: file, line: line)
        return JSON.objects(report["segmentFiles"]).compactMap { segment in
            guard let name = segment["file"] as? String,
                  let first = JSON.uint64(segment["firstIndex"]),
                  let last = JSON.uint64(segment["lastIndex"]),
                  let sealed = segment["sealed"] as? Bool
            else { return nil }
            let path = name.hasPrefix("/") ? name : (dir as NSString).appendingPathComponent(name)
            return ListedSegment(
                path: path, name: (name as NSString).lastPathComponent, firstIndex: first, lastIndex: last,
                sealed: sealed)
        }
    }

    /// The segment holding `index`.
    static func segment(holding index: UInt64, in segments: [ListedSegment]) -> ListedSegment? {
        segments.first { $0.firstIndex <= index && index <= $0.lastIndex }
    }

    /// The file offset of entry `index`'s standard payload (`entryBytes` long) inside `path`, found by
    /// searching the file for those bytes (unique for payloads of 16 bytes or more).
    static func payloadOffset(of index: UInt64, entryBytes: Int, in path: String) throws -> Int? {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        let payload = Data(StandardPayload.make(index: index, size: entryBytes))
        guard let range = data.range(of: payload) else { return nil }
        return range.lowerBound - data.startIndex
    }

    /// XORs the byte at `offset` of `path` with 0x5A.
    static func flipByte(at offset: Int, in path: String) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.seek(toOffset: UInt64(offset))
        guard let byte = try handle.read(upToCount: 1)?.first else {
            throw CocoaError(.fileReadUnknown)
        }
        try handle.seek(toOffset: UInt64(offset))
        try handle.write(contentsOf: Data([byte ^ 0x5A]))
    }

    /// Cuts `path` to `length` bytes.
    static func cut(_ path: String, to length: Int) throws {
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: UInt64(length))
    }
}
