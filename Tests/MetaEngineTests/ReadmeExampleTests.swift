import Foundation
import MetaEngine
import MetaInflux
import XCTest

// The code of README.md's "Embedding MetaEngine" section, verbatim, so that it is compiled and run.
func engineExample(directory: String) async throws {
    // Opens (or creates) the engine: newest valid snapshot, then the log replayed through the durable commit.
    var options = EngineOptions()
    options.snapshotEveryEntries = 10_000  // background snapshots; the log keeps a window behind each
    let engine = try MetaEngine(directory: directory, stateMachine: InfluxStateMachine(), options: options)

    // The host's leader appends a proposal (concurrent proposers share one fdatasync)...
    var batch = EntryBatch()
    batch.append(term: 1, payload: InfluxCommand.createDatabase(name: "db0", retentionPolicy: nil).encoded())
    let range = try await engine.propose(batch)
    // ...commits it once a quorum holds it, and answers its client with the state machine's result.
    engine.commit(to: range.upperBound)
    let error = try await engine.applied(range.upperBound) ?? nil  // InfluxDB's error; nil when applied
    print(error.map { "\($0)" } ?? "ok", engine.read { $0.store.database("db0")?.name ?? "-" })
    try engine.close()
}

final class EngineReadmeExampleTests: XCTestCase {
    func testReadmeExampleRunsAndLeavesWhatItSays() async throws {
        let directory = makeTemporaryDirectory(self)
        try await engineExample(directory: directory)
        let engine = try MetaEngine(directory: directory, stateMachine: InfluxStateMachine())
        XCTAssertEqual(engine.recovery.entriesReplayed, 1, "close saved the commit index")
        XCTAssertEqual(engine.read { $0.store.database("db0")?.name }, "db0")
        XCTAssertEqual(engine.read { $0.appliedIndex }, 1)
        try engine.close()
    }

    func testReadmeCodeIsTheTestedCode() throws {
        // The README block and the function above must stay identical.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: URL(fileURLWithPath: #filePath), encoding: .utf8)
        let start = try XCTUnwrap(source.range(of: "func engineExample(directory: String) async throws {"))
        let end = try XCTUnwrap(source.range(of: "\n}\n", range: start.upperBound..<source.endIndex))
        let function = String(source[start.lowerBound..<end.upperBound])
        XCTAssertTrue(readme.contains(function), "README.md's example differs from ReadmeExampleTests.engineExample")
    }
}
