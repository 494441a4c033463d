import XCTest

@testable import MetaSnapshot

/// Every truncation and every single-byte change of a small snapshot is rejected, with an error that names an
/// offset, without a crash, and never reads as valid.
final class SnapshotDamageTests: XCTestCase {
    /// A small snapshot with compressed and raw chunks and a short last chunk.
    private func smallSnapshot() throws -> (file: [UInt8], body: [UInt8]) {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let body = recordBytes(400) + randomBytes(200, seed: 5)
        let file = try makeSnapshot(body, in: dir, chunkBytes: 128)
        let layout = try SnapshotLayout(source: SnapshotMemoryStorage(file))
        XCTAssertEqual(layout.chunks.map(\.flags), [0, 0, 0, 1, 1])
        return (file, body)
    }

    /// Opens, reads everything and verifies; returns the first error (nil if the bytes read as valid).
    private func firstError(_ bytes: [UInt8]) -> Error? {
        do {
            let reader = try SnapshotReader(source: SnapshotMemoryStorage(bytes, name: "f"))
            _ = try reader.readAll()
            try reader.verify()
            for k in reader.layout.chunks.indices { _ = try reader.readChunk(k) }
            return nil
        } catch {
            return error
        }
    }

    func testIntactSmallSnapshotReads() throws {
        let (file, body) = try smallSnapshot()
        XCTAssertNil(firstError(file))
        XCTAssertEqual(try SnapshotReader(source: SnapshotMemoryStorage(file)).readAll(), body)
    }

    func testEveryTruncationIsRejectedWithAnOffsetInsideTheFile() throws {
        let (file, _) = try smallSnapshot()
        for length in 0..<file.count {
            guard let error = firstError(Array(file[..<length])) as? SnapshotError else {
                XCTFail("truncation to \(length) bytes read as valid or threw a foreign error")
                continue
            }
            guard let offset = error.offset else {
                XCTFail("truncation to \(length): error names no offset: \(error)")
                continue
            }
            XCTAssertLessThanOrEqual(offset, UInt64(length), "truncation to \(length): \(error)")
        }
    }

    func testEverySingleByteChangeIsRejectedAtOrBeforeTheChangedByte() throws {
        let (file, _) = try smallSnapshot()
        var mutated = file
        var checked = 0
        for position in file.indices {
            for value in 0...255 where UInt8(value) != file[position] {
                mutated[position] = UInt8(value)
                defer { mutated[position] = file[position] }
                checked += 1
                guard let error = firstError(mutated) as? SnapshotError else {
                    XCTFail("byte \(position) = \(value) read as valid or threw a foreign error")
                    continue
                }
                guard let offset = error.offset else {
                    XCTFail("byte \(position) = \(value): error names no offset: \(error)")
                    continue
                }
                // The named offset is the changed byte or the start of the field or checksummed range holding
                // it. One exception: a header length that now runs past the end reads as a truncated file.
                if case .truncated = error { continue }
                XCTAssertLessThanOrEqual(offset, UInt64(position), "byte \(position) = \(value): \(error)")
            }
        }
        XCTAssertEqual(checked, file.count * 255)
    }

    func testDamagedChunkNamesItsOffsetAndOnlyThatChunkFailsTheCheck() throws {
        let (file, _) = try smallSnapshot()
        let layout = try SnapshotLayout(source: SnapshotMemoryStorage(file))
        let chunk = layout.chunks[2]
        var bad = file
        bad[Int(chunk.offset) + 3] ^= 0x40
        let reader = try SnapshotReader(source: SnapshotMemoryStorage(bad, name: "f"))
        XCTAssertNoThrow(try reader.readChunk(1))
        let error = expectSnapshotError { try reader.readChunk(2) }
        XCTAssertEqual(error?.offset, chunk.offset)
        let check = try reader.check()
        XCTAssertEqual(check.chunkOK, [true, true, false, true, true])
        XCTAssertTrue(check.digestOK, "the digest covers chunks through their hashes in the table, which is intact")
        XCTAssertEqual(check.firstError, error)
    }

    func testDamagedHeaderAndFooterErrorsAreExact() throws {
        let (file, _) = try smallSnapshot()
        let layout = try SnapshotLayout(source: SnapshotMemoryStorage(file))
        var bad = file
        bad[3] = UInt8(ascii: "x")
        XCTAssertEqual(
            expectSnapshotError { try SnapshotReader(source: SnapshotMemoryStorage(bad, name: "f")) },
            .badMagic(path: "f", offset: 3, what: "header"))
        bad = file
        bad[30] ^= 1  // inside last index
        if case .checksumMismatch(_, 0, layout.headerLength, "header", _, _)? =
            expectSnapshotError({ try SnapshotReader(source: SnapshotMemoryStorage(bad, name: "f")) }) {} else {
            XCTFail("expected a header checksum mismatch over 0..<\(layout.headerLength)")
        }
        bad = file
        bad[Int(layout.tableOffset) + 40] ^= 1  // chunk 1's offset field, covered by the footer checksum
        if case .checksumMismatch(_, layout.tableOffset, _, "footer", _, _)? =
            expectSnapshotError({ try SnapshotReader(source: SnapshotMemoryStorage(bad, name: "f")) }) {} else {
            XCTFail("expected a footer checksum mismatch at \(layout.tableOffset)")
        }
        XCTAssertEqual(
            expectSnapshotError { try SnapshotReader(source: SnapshotMemoryStorage(Array(file.dropLast()), name: "f")) },
            .badMagic(path: "f", offset: UInt64(file.count - 9), what: "footer end"))
    }
}
