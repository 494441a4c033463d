import MetaEngine
import MetaLog
import XCTest

/// The real file system, recording the directory calls (creations and fsyncs) in order.
final class DirectoryCallRecorder: FileSystem, @unchecked Sendable {
    private let real = PosixFileSystem()
    private let lock = NSLock()
    private var calls: [String] = []

    /// "mkdir <path>" and "fsync dir <path>" lines, in call order.
    var recorded: [String] { lock.withLock { calls } }

    private func note(_ line: String) { lock.withLock { calls.append(line) } }

    func open(_ path: String, create: Bool, readOnly: Bool) throws(FileSystemError) -> Int32 {
        try real.open(path, create: create, readOnly: readOnly)
    }
    func close(_ fd: Int32) { real.close(fd) }
    func pwrite(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) {
        try real.pwrite(fd, bytes, at: offset, path: path)
    }
    func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: Int64, path: String) throws(FileSystemError) -> Int {
        try real.pread(fd, buffer, at: offset, path: path)
    }
    func fdatasync(_ fd: Int32, path: String) throws(FileSystemError) { try real.fdatasync(fd, path: path) }
    func fsync(_ fd: Int32, path: String) throws(FileSystemError) { try real.fsync(fd, path: path) }
    func ftruncate(_ fd: Int32, size: Int64, path: String) throws(FileSystemError) { try real.ftruncate(fd, size: size, path: path) }
    func preallocate(_ fd: Int32, offset: Int64, length: Int64, path: String) throws(FileSystemError) {
        try real.preallocate(fd, offset: offset, length: length, path: path)
    }
    func fileSize(_ fd: Int32, path: String) throws(FileSystemError) -> Int64 { try real.fileSize(fd, path: path) }
    func rename(_ from: String, _ to: String) throws(FileSystemError) { try real.rename(from, to) }
    func unlink(_ path: String) throws(FileSystemError) { try real.unlink(path) }
    func makeDirectory(_ path: String) throws(FileSystemError) {
        note("mkdir \(path)")
        try real.makeDirectory(path)
    }
    func listDirectory(_ path: String) throws(FileSystemError) -> [String] { try real.listDirectory(path) }
    func syncDirectory(_ path: String) throws(FileSystemError) {
        note("fsync dir \(path)")
        try real.syncDirectory(path)
    }
    func map(_ fd: Int32, length: Int, path: String) throws(FileSystemError) -> UnsafeRawPointer {
        try real.map(fd, length: length, path: path)
    }
    func unmap(_ address: UnsafeRawPointer, length: Int) { real.unmap(address, length: length) }
    func nextData(_ fd: Int32, from offset: Int64) -> Int64? { real.nextData(fd, from: offset) }
    func nextHole(_ fd: Int32, from offset: Int64) -> Int64? { real.nextHole(fd, from: offset) }
    func startWriteback(_ fd: Int32, offset: Int64, length: Int64) { real.startWriteback(fd, offset: offset, length: length) }
    func lockFile(_ path: String) throws(FileSystemError) -> Int32? { try real.lockFile(path) }
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
