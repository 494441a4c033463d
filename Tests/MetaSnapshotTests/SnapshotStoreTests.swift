import SystemPackage
import XCTest

@testable import MetaSnapshot

final class SnapshotStoreTests: XCTestCase {
    private func meta(_ index: UInt64, _ term: UInt64 = 1) -> SnapshotMeta {
        SnapshotMeta(stateMachineKind: "kv", lastIndex: index, lastTerm: term, createdAtNanos: Int64(index))
    }

    private func publish(_ store: SnapshotStore, _ index: UInt64, _ body: [UInt8]) throws {
        let writer = try store.create(meta(index), options: SnapshotWriterOptions(chunkBytes: 4096))
        try writer.write(body)
        try store.publish(writer)
    }

    func testPublishListLatestOpenDeleteRetain() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try SnapshotStore(directory: dir.path)
        XCTAssertNil(try store.latest())
        let writer = try store.create(meta(10))
        try writer.write(recordBytes(10_000))
        // Not visible before publish.
        XCTAssertEqual(try store.list(), [])
        XCTAssertEqual(try dir.names(), ["snapshot-00000000000000000010-00000000000000000001.msnap.1.tmp"])
        XCTAssertEqual(try store.publish(writer), SnapshotID(index: 10, term: 1))
        try publish(store, 30, recordBytes(100))
        try publish(store, 20, recordBytes(100))
        XCTAssertEqual(try store.list().map(\.index), [30, 20, 10])
        XCTAssertEqual(try store.latest(), SnapshotID(index: 30, term: 1))
        XCTAssertEqual(try store.open(SnapshotID(index: 10, term: 1)).readAll(), recordBytes(10_000))
        XCTAssertEqual(
            expectSnapshotError { try store.create(meta(20)) },
            .alreadyExists(directory: dir.path, id: SnapshotID(index: 20, term: 1)))
        try store.delete(SnapshotID(index: 20, term: 1))
        XCTAssertEqual(
            expectSnapshotError { try store.open(SnapshotID(index: 20, term: 1)) },
            .notFound(directory: dir.path, id: SnapshotID(index: 20, term: 1)))
        try publish(store, 40, [])
        try publish(store, 50, [1])
        XCTAssertEqual(try store.retain(newest: 2).map(\.index), [30, 10])
        XCTAssertEqual(
            try dir.names(),
            ["snapshot-00000000000000000040-00000000000000000001.msnap",
             "snapshot-00000000000000000050-00000000000000000001.msnap"])
    }

    func testLeftoverTemporaryFilesAreRemovedOnOpenAndPartialsKept() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let store = try SnapshotStore(directory: dir.path)
        try publish(store, 5, recordBytes(1000))
        // A crash in the middle of writing: a half temp file, a temp file with garbage, a partial transfer.
        let writer = try store.create(meta(6))
        try writer.write(randomBytes(100_000, seed: 2))
        writer.abandon()
        try writeFile(dir.file("snapshot-00000000000000000007-00000000000000000001.msnap.3.tmp"), [1, 2, 3])
        try writeFile(dir.file("snapshot-00000000000000000008-00000000000000000001.msnap.partial"), [9])
        let reopened = try SnapshotStore(directory: dir.path)
        XCTAssertEqual(
            try dir.names(),
            ["snapshot-00000000000000000005-00000000000000000001.msnap",
             "snapshot-00000000000000000008-00000000000000000001.msnap.partial"])
        XCTAssertEqual(try reopened.latest(), SnapshotID(index: 5, term: 1))
        XCTAssertEqual(try reopened.partialTransfers(), [SnapshotID(index: 8, term: 1)])
    }

    /// Simulates a crash at every file-system operation of "write snapshot 20, publish it, keep the newest 1"
    /// over a store holding snapshot 10: afterwards the store holds either the old set or the new one.
    /// A new store's directory entry is made durable in its parent when the store opens, before anything
    /// is published into it (otherwise a power cut could drop the directory with every snapshot in it), and
    /// each publish fsyncs the store's directory after its rename.
    func testOpeningSyncsTheParentDirectoryAndPublishTheStoreDirectory() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let storePath = dir.path + "/snapshots"
        let fs = FaultyFileSystem()
        let store = try SnapshotStore(directory: storePath, fileSystem: fs)
        XCTAssertEqual(fs.syncedDirectories, [FilePath(dir.path)])
        XCTAssertEqual(fs.log, ["fsync dir"])
        try publish(store, 10, recordBytes(500))
        XCTAssertEqual(fs.syncedDirectories, [FilePath(dir.path), FilePath(storePath)])
        XCTAssertEqual(Array(fs.log.suffix(2)), ["rename", "fsync dir"])
    }

    func testCrashAtEveryOperationLeavesTheOldOrTheNewSet() throws {
        let body = recordBytes(20_000) + randomBytes(9_000, seed: 4)
        var outcomes: [String: Int] = [:]
        var failAt = 0
        while true {
            let dir = try TempDir()
            defer { dir.cleanup() }
            try publish(try SnapshotStore(directory: dir.path), 10, recordBytes(500))
            let fs = FaultyFileSystem(failAt: failAt)
            var completed = false
            do {
                let store = try SnapshotStore(directory: dir.path, fileSystem: fs)
                let writer = try store.create(meta(20), options: SnapshotWriterOptions(chunkBytes: 4096))
                try writer.write(body)
                try store.publish(writer)
                try store.retain(newest: 1)
                completed = true
            } catch let error as SnapshotError {
                XCTAssertTrue(fs.crashed, "failAt \(failAt): error without an injected fault: \(error)")
            }
            // "Restart": open with the real file system.
            let store = try SnapshotStore(directory: dir.path)
            let ids = try store.list().map(\.index)
            XCTAssertTrue(ids == [10] || ids == [20] || ids == [20, 10], "failAt \(failAt): store holds \(ids)")
            for id in try store.list() { XCTAssertNoThrow(try store.open(id).verify(), "failAt \(failAt)") }
            if try store.latest()?.index == 20 {
                XCTAssertTrue(try store.open(SnapshotID(index: 20, term: 1)).readAll() == body)
            }
            XCTAssertFalse(try dir.names().contains { $0.hasSuffix(".tmp") }, "failAt \(failAt): temp file left")
            outcomes["\(ids)", default: 0] += 1
            if completed {
                XCTAssertEqual(ids, [20])
                XCTAssertEqual(fs.log.filter { $0 == "rename" }.count, 1)
                break
            }
            failAt += 1
        }
        // Operations 0...16: fsync of the store's parent directory (open), create, header, 8 chunk writes,
        // footer, fsync, rename, fsync dir, unlink, fsync dir. A crash up to and including the rename leaves the
        // old set; after it, the new snapshot is visible.
        XCTAssertEqual(failAt, 17)
        XCTAssertEqual(outcomes, ["[10]": 14, "[20, 10]": 2, "[20]": 2])
    }
}
