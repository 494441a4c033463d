import MetaLog
import XCTest

// The code of README.md's "Embedding MetaLog" section, verbatim, so that it is compiled and run.
func example(directory: String) throws {
    // Opens (or creates) the log, takes the directory lock, cuts a torn tail if the last run crashed.
    let log = try Log(directory: directory, options: LogOptions(durability: .groupCommit))

    // A batch is one buffer; appending it is one write(2) and (shared with concurrent callers) one fdatasync.
    var batch = EntryBatch()
    batch.append(term: 1, payload: Array("put x=1".utf8))
    batch.append(term: 1, kind: 2, payload: Array("put y=2".utf8))
    let range = try log.append(batch)  // 1...2, on disk when append returns
    try log.saveHardState(HardState(term: 1, vote: 1, commit: range.upperBound))

    // Range reads hand out views into one buffer (for replication messages and replay).
    let entries = try log.read(from: range.lowerBound, maxBytes: 1 << 20)
    for position in 0..<entries.count {
        let header = entries.header(at: position)
        entries.withPayload(at: position) { payload in
            print(header.index, header.term, String(decoding: payload, as: UTF8.self))
        }
    }
    // Or in place, with no copy (recovery): each frame's checksum is checked before the closure sees it.
    try log.forEachEntry(from: log.firstIndex) { header, payload in
        print(header.index, payload.count)
        return true  // false stops the scan
    }

    try log.truncate(after: 1)        // a Raft conflict: drop index 2
    try log.removePrefix(through: 1)  // a snapshot covers index 1: the log is now empty at 2
    try log.close()
}

final class ReadmeExampleTests: XCTestCase {
    func testReadmeExampleRunsAndLeavesWhatItSays() throws {
        let directory = makeTemporaryDirectory(self)
        try example(directory: directory)
        let log = try Log(directory: directory)
        XCTAssertEqual(log.firstIndex, 2)
        XCTAssertEqual(log.lastIndex, 1)
        XCTAssertEqual(log.hardState, HardState(term: 1, vote: 1, commit: 2))
    }

    func testReadmeCodeIsTheTestedCode() throws {
        // The README block and the function above must stay identical.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let start = try XCTUnwrap(source.range(of: "func example(directory: String) throws {"))
        let end = try XCTUnwrap(source.range(of: "\n}\n", range: start.upperBound..<source.endIndex))
        let function = String(source[start.lowerBound..<end.upperBound])
        XCTAssertTrue(readme.contains(function), "README.md's example differs from ReadmeExampleTests.example")
    }
}
