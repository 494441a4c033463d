import MetaEngine
import MetaLog
import XCTest

/// The real file system, recording the directory calls (creations and fsyncs) in order.
final class DirectoryCallRecorder: ForwardingFileSystem, @unchecked Sendable {
    let base: any FileSystem = PosixFileSystem()
    private let lock = NSLock()
    private var calls: [String] = []

    /// "mkdir <path>" and "fsync dir <path>" lines, in call order.
    var recorded: [String] { lock.withLock { calls } }

    private func note(_ line: String) { lock.withLock { calls.append(line) } }

    func makeDirectory(_ path: String) throws(FileSystemError) {
        note("mkdir \(path)")
        try base.makeDirectory(path)
    }

    func syncDirectory(_ path: String) throws(FileSystemError) {
        note("fsync dir \(path)")
        try base.syncDirectory(path)
    }
}

/// Every directory an engine creates is durable in its parent before anything in it is acknowledged.
final class DirectorySyncTests: XCTestCase {
    /// A new engine directory (and, inside it, `log/`; `snapshots/` is synced by MetaSnapshot's store, which
    /// has its own seam and test) is created, then its parent is fsynced, before the first append returns.
    func testANewEngineDirectoryIsMadeDurableInItsParent() throws {
        let parent = makeTemporaryDirectory(self)
        let dir = parent + "/engine"
        var o = quietOptions()
        o.commitOnDurable = true
        let fs = DirectoryCallRecorder()
        o.fileSystem = fs
        let engine = try MetaEngine(directory: dir, stateMachine: CounterMachine(), options: o)
        let calls = fs.recorded
        guard let made = calls.firstIndex(of: "mkdir \(dir)") else { return XCTFail("no mkdir of \(dir): \(calls)") }
        XCTAssertEqual(calls.dropFirst(made + 1).first, "fsync dir \(parent)", "\(calls)")
        let logDir = dir + "/log"
        guard let madeLog = calls.firstIndex(of: "mkdir \(logDir)") else { return XCTFail("no mkdir of \(logDir): \(calls)") }
        XCTAssertEqual(calls.dropFirst(madeLog + 1).first, "fsync dir \(dir)", "\(calls)")
        XCTAssertEqual(try engine.proposeSync(counterBatch(1...2, term: 1)), 1...2)
        try engine.close()
    }
}
