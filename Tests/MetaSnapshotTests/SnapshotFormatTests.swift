import Foundation
import XCTest

@testable import MetaSnapshot

final class SnapshotFormatTests: XCTestCase {
    func testRoundTripKeepsHeaderAndBody() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = recordBytes(300_000) + randomBytes(200_000, seed: 1) + recordBytes(50_001)
        let file = try makeSnapshot(body, in: dir, chunkBytes: 128 << 10, pieces: 7)
        let reader = try SnapshotReader(path: dir.file("s.msnap"))
        XCTAssertEqual(reader.meta, sampleMeta)
        XCTAssertEqual(reader.layout.major, 1)
        XCTAssertEqual(reader.layout.minor, 1)
        XCTAssertEqual(reader.layout.chunkBytes, 128 << 10)
        XCTAssertEqual(reader.layout.rawLength, UInt64(body.count))
        XCTAssertEqual(reader.layout.fileSize, UInt64(file.count))
        XCTAssertEqual(reader.layout.chunks.count, 5)  // 550_001 bytes in 131_072-byte chunks
        XCTAssertEqual(reader.layout.chunks.map(\.rawLength), [131_072, 131_072, 131_072, 131_072, 25_713])
        // Chunk 0 is records (compressed); chunk 3 is inside the random part (stored raw).
        XCTAssertFalse(reader.layout.chunks[0].isRaw)
        XCTAssertLessThan(reader.layout.chunks[0].storedLength, 131_072 / 2)
        XCTAssertTrue(reader.layout.chunks[3].isRaw)
        XCTAssertEqual(reader.layout.chunks[3].storedLength, 131_072)
        XCTAssertTrue(try reader.readAll() == body, "body differs")
        XCTAssertNoThrow(try reader.verify())
        XCTAssertEqual(try reader.check().chunkOK, [true, true, true, true, true])
    }

    func testHeaderBytesAreExactlyAsDocumented() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let meta = SnapshotMeta(
            stateMachineKind: "kv", stateMachineVersion: 2, lastIndex: 0x0102, lastTerm: 3, membership: [0xAA],
            userMetadata: ["k": [0x55]], createdAtNanos: 5)
        let file = try makeSnapshot([], in: dir, meta: meta, chunkBytes: 4096)
        let expectedHeader: [UInt8] =
            Array("MSNAPSHT".utf8) + [1, 0, 1, 0] + [81, 0, 0, 0] + [0, 0x10, 0, 0] + [0, 0, 0, 0]
            + [2, 1, 0, 0, 0, 0, 0, 0] + [3, 0, 0, 0, 0, 0, 0, 0] + [5, 0, 0, 0, 0, 0, 0, 0] + [2, 0, 0, 0]
            + [2, 0] + Array("kv".utf8) + [1, 0, 0, 0, 0xAA] + [1, 0, 0, 0] + [1, 0] + Array("k".utf8)
            + [1, 0, 0, 0, 0x55]
        XCTAssertEqual(Array(file[..<73]), expectedHeader)
        let checksum = expectedHeader.withUnsafeBytes { SnapshotFormat.hash($0) }
        XCTAssertEqual(file[73..<81].withUnsafeBytes { $0.loadLE(at: 0) }, checksum)
        // Empty body: no chunks, then the 48-byte trailer.
        XCTAssertEqual(file.count, 81 + 48)
        XCTAssertEqual(Array(file[81..<105]), [UInt8](repeating: 0, count: 16) + [81, 0, 0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Array(file[(file.count - 8)...]), Array("MSNAPEND".utf8))
        let reader = try SnapshotReader(source: SnapshotMemoryStorage(file))
        XCTAssertEqual(try reader.readAll(), [])
        XCTAssertNoThrow(try reader.verify())
    }

    func testRandomAccessToEveryChunkAndOddSequentialReads() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = recordBytes(10_000) + randomBytes(3_333, seed: 9)
        _ = try makeSnapshot(body, in: dir, chunkBytes: 1000)
        let reader = try SnapshotReader(path: dir.file("s.msnap"))
        XCTAssertEqual(reader.layout.chunks.count, 14)
        for k in [13, 0, 7, 3, 12] {
            XCTAssertTrue(try reader.readChunk(k) == Array(body[(k * 1000)..<min(k * 1000 + 1000, body.count)]), "chunk \(k)")
        }
        XCTAssertEqual(
            expectSnapshotError { try reader.readChunk(14) }, .chunkOutOfRange(path: dir.file("s.msnap"), chunk: 14, count: 14))
        reader.rewind()
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 777)
        while true {
            let n = try buffer.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            out += buffer[..<n]
            // Random access in the middle of a sequential read does not disturb it.
            _ = try reader.readChunk(5)
        }
        XCTAssertTrue(out == body, "sequential read differs from the body")
    }

    func testIncompressibleChunksAreStoredRawAndCompressibleOnesAreNot() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = randomBytes(1 << 20, seed: 3) + recordBytes(1 << 20)
        _ = try makeSnapshot(body, in: dir, chunkBytes: 1 << 20)
        let reader = try SnapshotReader(path: dir.file("s.msnap"))
        XCTAssertEqual(reader.layout.chunks.map(\.flags), [1, 0])
        XCTAssertEqual(reader.layout.chunks[0].storedLength, 1 << 20)
        XCTAssertLessThan(reader.layout.chunks[1].storedLength, 1 << 19)
        XCTAssertTrue(try reader.readAll() == body, "body differs")
    }

    func testUnknownMajorVersionIsRejectedClearly() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        var file = try makeSnapshot(recordBytes(500), in: dir, chunkBytes: 128)
        file[8] = 2
        let error = expectSnapshotError { try SnapshotReader(source: SnapshotMemoryStorage(file, name: "f")) }
        XCTAssertEqual(error, .unsupportedVersion(path: "f", offset: 8, major: 2, minor: 1, supportedMajor: 1))
        XCTAssertEqual(
            error?.description,
            "f: format version 2.1 at offset 8 is not supported (this reader understands major version 1); use a newer metactl")
    }

    func testOlderMinorWithoutMetadataReads() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        var meta = sampleMeta
        meta.userMetadata = [:]
        let body = recordBytes(5000)
        let file = try makeSnapshot(body, in: dir, meta: meta, chunkBytes: 1024, minor: 0)
        XCTAssertEqual(Array(file[8..<12]), [1, 0, 0, 0])
        let reader = try SnapshotReader(source: SnapshotMemoryStorage(file))
        XCTAssertEqual(reader.layout.minor, 0)
        XCTAssertEqual(reader.meta, meta)
        XCTAssertTrue(try reader.readAll() == body, "body differs")
        XCTAssertNoThrow(try reader.verify())
    }

    func testNewerMinorWithExtraHeaderFieldsReads() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = recordBytes(3000)
        let file = try makeSnapshot(body, in: dir, chunkBytes: 512)
        let hlen = Int(try SnapshotLayout(source: SnapshotMemoryStorage(file)).headerLength)
        var header = Array(file[..<(hlen - 8)]) + [9, 9, 9, 9] + [UInt8](repeating: 0, count: 8)
        header[10] = 7  // minor 7
        header[12] = UInt8(hlen + 4)
        let newer = try reframe(file, header: resealHeader(header))
        let reader = try SnapshotReader(source: SnapshotMemoryStorage(newer))
        XCTAssertEqual(reader.layout.minor, 7)
        XCTAssertEqual(reader.meta, sampleMeta)
        XCTAssertTrue(try reader.readAll() == body, "body differs")
        XCTAssertNoThrow(try reader.verify())
        // The same extra bytes in a file claiming the current minor are an error at their offset.
        header[10] = 1
        let bad = try reframe(file, header: resealHeader(header))
        XCTAssertEqual(
            expectSnapshotError { try SnapshotReader(source: SnapshotMemoryStorage(bad, name: "f")) },
            .malformed(path: "f", offset: UInt64(hlen - 8), what: "unexpected bytes at the end of the header"))
    }

    func testWriterRejectsBadChunkSizesAndUseAfterFinish() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        XCTAssertEqual(
            expectSnapshotError {
                try SnapshotWriter(path: dir.file("a"), meta: sampleMeta, options: SnapshotWriterOptions(chunkBytes: 63))
            }, .invalidArgument("chunk size 63 outside 64...67108864"))
        let writer = try SnapshotWriter(path: dir.file("b"), meta: sampleMeta, options: SnapshotWriterOptions(chunkBytes: 64))
        try writer.write([1, 2, 3])
        let summary = try writer.finish()
        XCTAssertEqual(summary.chunkCount, 1)
        XCTAssertEqual(summary.rawBytes, 3)
        XCTAssertEqual(expectSnapshotError { try writer.write([4]) }, .closed("snapshot writer \(dir.file("b"))"))
        XCTAssertEqual(expectSnapshotError { try writer.finish() }, .closed("snapshot writer \(dir.file("b"))"))
        // The writer never overwrites an existing file.
        XCTAssertEqual(
            expectSnapshotError { try SnapshotWriter(path: dir.file("b"), meta: sampleMeta) },
            .io(path: dir.file("b"), operation: "open", errno: 17))
    }

    func testOutputDoesNotDependOnHowTheBodyIsSplitIntoWrites() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = recordBytes(20_000) + randomBytes(7_000, seed: 6)
        let whole = try makeSnapshot(body, in: dir, name: "a", chunkBytes: 4096, pieces: 1)
        for pieces in [2, 13, 27_000] {
            XCTAssertTrue(try makeSnapshot(body, in: dir, name: "p\(pieces)", chunkBytes: 4096, pieces: pieces) == whole)
        }
    }

    #if os(Linux)
    /// The writer holds about two chunks whatever the body size: 48 MiB written through 1 MiB chunks raise the
    /// process's resident memory by far less than the body.
    func testWriterMemoryStaysBoundedByTheChunkSize() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let piece = recordBytes(64 << 10)
        let writer = try SnapshotWriter(
            path: dir.file("big"), meta: sampleMeta, options: SnapshotWriterOptions(chunkBytes: 1 << 20, syncOnFinish: false))
        func heap() -> Int {  // resident bytes, from /proc/self/statm (second field, in pages)
            let statm = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8)) ?? ""
            return (Int(statm.split(separator: " ").dropFirst().first ?? "") ?? 0) * 4096
        }
        let before = heap()
        var peak = before
        for _ in 0..<(48 * 16) {
            try writer.write(piece)
            peak = max(peak, heap())
        }
        let summary = try writer.finish()
        XCTAssertEqual(summary.rawBytes, 48 << 20)
        XCTAssertLessThan(peak - before, 8 << 20, "resident memory grew by \(peak - before) bytes while writing 48 MiB")
        XCTAssertGreaterThan(before, 0, "could not read /proc/self/statm")
    }
    #endif
}
