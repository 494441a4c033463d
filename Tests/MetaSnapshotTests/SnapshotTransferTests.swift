import XCTest

@testable import MetaSnapshot

final class SnapshotTransferTests: XCTestCase {
    private let id = SnapshotID(index: 900, term: 4)

    /// A sender store holding snapshot `id` with a mixed body; returns the body.
    private func makeSender(_ dir: TempDir) throws -> (SnapshotStore, [UInt8]) {
        let sender = try SnapshotStore(directory: dir.file("sender"))
        let body = recordBytes(70_000) + randomBytes(33_333, seed: 8) + recordBytes(5_000)
        let writer = try sender.create(
            SnapshotMeta(stateMachineKind: "kv", lastIndex: 900, lastTerm: 4, membership: [1, 2]),
            options: SnapshotWriterOptions(chunkBytes: 8192))
        try writer.write(body)
        try sender.publish(writer)
        return (sender, body)
    }

    func testEndToEndWithOddPiecesAndAResumeInTheMiddle() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (sender, body) = try makeSender(dir)
        let size = try sender.fileSize(of: id)
        let receiverStore = try SnapshotStore(directory: dir.file("receiver"))
        var receiver = try receiverStore.receiver(for: id)
        XCTAssertEqual(receiver.offset, 0)
        let pieceSizes = [1, 7, 4093, 13, 10_007, 333]
        var turn = 0
        var resumed = false
        while receiver.offset < size {
            let piece = try sender.readRaw(id, offset: receiver.offset, count: pieceSizes[turn % pieceSizes.count])
            turn += 1
            try receiver.append(at: receiver.offset, piece)
            if !resumed && receiver.offset > size / 2 {
                // The receiving process restarts: a new store and receiver resume from the partial file.
                try receiver.sync()
                let held = receiver.offset
                receiver = try SnapshotStore(directory: dir.file("receiver")).receiver(for: id)
                XCTAssertEqual(receiver.offset, held)
                XCTAssertEqual(try receiverStore.partialTransfers(), [id])
                XCTAssertEqual(try receiverStore.list(), [], "nothing is published before finish")
                resumed = true
            }
        }
        XCTAssertTrue(resumed)
        XCTAssertEqual(receiver.offset, size)
        XCTAssertEqual(try sender.readRaw(id, offset: size, count: 10), [])
        let meta = try receiver.finish()
        XCTAssertEqual(meta.membership, [1, 2])
        XCTAssertEqual(try receiverStore.list(), [id])
        XCTAssertEqual(try receiverStore.partialTransfers(), [])
        XCTAssertTrue(try receiverStore.open(id).readAll() == body)
        XCTAssertEqual(try readFile(receiverStore.path(of: id).string), try readFile(sender.path(of: id).string))
    }

    func testGapsAreRefusedAndResentBytesAreSkipped() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (sender, _) = try makeSender(dir)
        let receiverStore = try SnapshotStore(directory: dir.file("receiver"))
        let receiver = try receiverStore.receiver(for: id)
        try receiver.append(at: 0, try sender.readRaw(id, offset: 0, count: 100))
        XCTAssertEqual(
            expectSnapshotError { try receiver.append(at: 101, [0]) },
            .outOfOrderPiece(path: receiverStore.partialPath(of: id).string, expectedOffset: 100, pieceOffset: 101))
        // A resend overlapping what is held contributes only its new bytes.
        try receiver.append(at: 50, try sender.readRaw(id, offset: 50, count: 100))
        XCTAssertEqual(receiver.offset, 150)
        try receiver.append(at: 0, try sender.readRaw(id, offset: 0, count: 20))
        XCTAssertEqual(receiver.offset, 150)
        let size = try sender.fileSize(of: id)
        try receiver.append(at: 150, try sender.readRaw(id, offset: 150, count: Int(size)))
        try receiver.finish()
        XCTAssertNoThrow(try receiverStore.open(id).verify())
        XCTAssertEqual(
            expectSnapshotError { try sender.readRaw(id, offset: size + 1, count: 1) },
            .rangeOutOfBounds(path: sender.path(of: id).string, offset: size + 1, count: 1, fileSize: size))
    }

    func testACorruptedTransferIsNotPublishedAndNamesTheOffset() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (sender, _) = try makeSender(dir)
        let layout = try sender.open(id).layout
        var bytes = try sender.readRaw(id, offset: 0, count: Int(try sender.fileSize(of: id)))
        let damaged = Int(layout.chunks[3].offset) + 17
        bytes[damaged] ^= 0x01
        let receiverStore = try SnapshotStore(directory: dir.file("receiver"))
        let receiver = try receiverStore.receiver(for: id)
        try receiver.append(at: 0, bytes)
        let error = expectSnapshotError { try receiver.finish() }
        XCTAssertEqual(error?.offset, layout.chunks[3].offset)
        XCTAssertEqual(try receiverStore.list(), [])
        XCTAssertEqual(try receiverStore.partialTransfers(), [], "a failed transfer restarts from offset 0")
        XCTAssertEqual(try receiverStore.receiver(for: id).offset, 0)
    }

    func testAWrongSnapshotIsNotPublishedUnderAnotherId() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let (sender, _) = try makeSender(dir)
        let other = SnapshotID(index: 901, term: 4)
        let receiverStore = try SnapshotStore(directory: dir.file("receiver"))
        let receiver = try receiverStore.receiver(for: other)
        try receiver.append(at: 0, try sender.readRaw(id, offset: 0, count: Int(try sender.fileSize(of: id))))
        XCTAssertEqual(
            expectSnapshotError { try receiver.finish() },
            .malformed(
                path: receiverStore.partialPath(of: other).string, offset: 24,
                what: "received snapshot is index 900 term 4, expected index 901 term 4"))
        XCTAssertEqual(try receiverStore.list(), [])
    }
}
