import XCTest

@testable import MetaSnapshot

/// Random operation sequences against an in-memory model, with reopen and abandoned writers in between; and a
/// receiver crashed at every file-system operation, then resumed from its partial file.
final class SnapshotStoreModelTests: XCTestCase {
    private struct Rng {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    func testRandomOperationsMatchTheModel() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        var rng = Rng(state: 77)
        var store = try SnapshotStore(directory: dir.path)
        var model: [SnapshotID: [UInt8]] = [:]
        for step in 0..<200 {
            let op = rng.next(6)
            switch op {
            case 0, 1:
                let id = SnapshotID(index: UInt64(rng.next(40)), term: UInt64(rng.next(3)))
                let body = rng.next(2) == 0 ? recordBytes(rng.next(5000)) : randomBytes(rng.next(3000), seed: UInt64(step))
                if model[id] != nil {
                    XCTAssertEqual(expectSnapshotError { try store.create(SnapshotMeta(stateMachineKind: "m", lastIndex: id.index, lastTerm: id.term)) },
                                   .alreadyExists(directory: dir.path, id: id))
                    continue
                }
                let writer = try store.create(
                    SnapshotMeta(stateMachineKind: "m", lastIndex: id.index, lastTerm: id.term),
                    options: SnapshotWriterOptions(chunkBytes: 64 + rng.next(2000)))
                try writer.write(body)
                try store.publish(writer)
                model[id] = body
            case 2:
                guard let id = model.keys.sorted().dropFirst(rng.next(max(model.count, 1))).first else { continue }
                try store.delete(id)
                model[id] = nil
            case 3:
                let keep = rng.next(4) + 1
                let doomed = try store.retain(newest: keep)
                XCTAssertEqual(doomed, Array(model.keys.sorted(by: >).dropFirst(keep)))
                for id in doomed { model[id] = nil }
            case 4:
                // A writer that never publishes (a crash before publish), then a reopen.
                let writer = try store.create(SnapshotMeta(stateMachineKind: "m", lastIndex: 1000, lastTerm: 0))
                try writer.write(recordBytes(100))
                store = try SnapshotStore(directory: dir.path)
                writer.abandon()
            default:
                store = try SnapshotStore(directory: dir.path)
            }
            XCTAssertEqual(try store.list(), model.keys.sorted(by: >), "step \(step)")
            XCTAssertEqual(try store.latest(), model.keys.max(), "step \(step)")
            if let id = model.keys.sorted().dropFirst(rng.next(max(model.count, 1))).first {
                XCTAssertTrue(try store.open(id).readAll() == model[id], "step \(step): body of \(id)")
            }
            if op >= 4 {
                XCTAssertFalse(try dir.names().contains { $0.hasSuffix(".tmp") }, "step \(step): reopen left a temp file")
            }
        }
    }

    func testReceiverCrashedAtEveryOperationResumesFromItsPartialFile() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let sender = try SnapshotStore(directory: dir.file("sender"))
        let id = SnapshotID(index: 77, term: 2)
        let writer = try sender.create(
            SnapshotMeta(stateMachineKind: "kv", lastIndex: 77, lastTerm: 2), options: SnapshotWriterOptions(chunkBytes: 1024))
        try writer.write(recordBytes(6000) + randomBytes(2000, seed: 1))
        try sender.publish(writer)
        let size = try sender.fileSize(of: id)
        var failAt = 0
        while true {
            let receiving = dir.file("receiver-\(failAt)")
            let fs = FaultyFileSystem(failAt: failAt)
            var completed = false
            do {
                let receiver = try SnapshotStore(directory: receiving, fileSystem: fs).receiver(for: id)
                while receiver.offset < size {
                    try receiver.append(at: receiver.offset, try sender.readRaw(id, offset: receiver.offset, count: 1500))
                    try receiver.sync()
                }
                try receiver.finish()
                completed = true
            } catch let error as SnapshotError {
                XCTAssertTrue(fs.crashed, "failAt \(failAt): \(error)")
            }
            // Restart with the real file system and finish the transfer from wherever it stopped.
            let store = try SnapshotStore(directory: receiving)
            if try store.list() != [id] {
                XCTAssertFalse(completed)
                let receiver = try store.receiver(for: id)
                while receiver.offset < size {
                    try receiver.append(at: receiver.offset, try sender.readRaw(id, offset: receiver.offset, count: 999))
                }
                try receiver.finish()
            }
            XCTAssertEqual(try store.list(), [id], "failAt \(failAt)")
            XCTAssertEqual(
                try readFile(store.path(of: id).string), try readFile(sender.path(of: id).string), "failAt \(failAt)")
            if completed { break }
            failAt += 1
        }
        // The store's open fsyncs its parent directory; then create, fsync dir, per piece a write and an
        // fsync, then fsync, rename, fsync dir.
        let pieces = (Int(size) + 1499) / 1500
        XCTAssertEqual(failAt, 1 + 2 + 2 * pieces + 3)
    }
}
