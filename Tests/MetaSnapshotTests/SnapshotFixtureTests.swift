import Foundation
import XCTest

@testable import MetaSnapshot

/// `metactl snapshot inspect/verify/cat/ls` on the real files in Fixtures/snapshots, through the library
/// functions the commands call (`SnapshotInspection`, `SnapshotReader.verify`, `SnapshotFiles`,
/// `SnapshotListingEntry.list`).
final class SnapshotFixtureTests: XCTestCase {
    private func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Fixtures/snapshots/\(name)").path
    }

    func testRecordsFixtureInspectsAndReadsBackItsInput() throws {
        let reader = try SnapshotReader(path: fixture("records.msnap"))
        XCTAssertEqual(
            reader.meta,
            SnapshotMeta(
                stateMachineKind: "influxdb-meta", stateMachineVersion: 1, lastIndex: 1000, lastTerm: 3,
                userMetadata: ["host": Array("node-a".utf8), "cluster": Array("c1".utf8)],
                createdAtNanos: 1_700_000_000_000_000_000))
        XCTAssertEqual(reader.layout.chunks.map(\.offset), [114, 2662, 5223, 7783, 10323])
        XCTAssertEqual(reader.layout.chunks.map(\.rawLength), [8192, 8192, 8192, 8192, 7232])
        XCTAssertEqual(reader.layout.fileSize, 12796)
        XCTAssertNoThrow(try reader.verify())
        XCTAssertTrue(try reader.readAll() == readFile(fixture("records.body")))
        let inspection = try SnapshotInspection(reader: reader)
        XCTAssertTrue(inspection.ok)
        let text = inspection.text()
        XCTAssertTrue(text.contains("\nstate machine: influxdb-meta version 1\nlast index: 1000\nlast term: 3\n"))
        XCTAssertTrue(text.contains("\nmetadata: cluster=\"c1\" host=\"node-a\"\n"))
        XCTAssertTrue(text.contains("\nchunks: 5\nraw bytes: 40000\nstored bytes: 12474 (file 12796)\nratio: 0.312\n"))
        XCTAssertTrue(text.contains("\nchunk 4: offset 10323 stored 2265 raw 7232 lz4 hash 0x031da5368604edd1 ok\n"))
        XCTAssertTrue(text.hasSuffix("\nstatus: ok"))
        let json = try JSONSerialization.jsonObject(with: Data(inspection.json().utf8)) as? [String: Any]
        XCTAssertEqual(json?["last_index"] as? Int, 1000)
        XCTAssertEqual(json?["chunk_count"] as? Int, 5)
        XCTAssertEqual(json?["ok"] as? Bool, true)
        XCTAssertEqual((json?["metadata_hex"] as? [String: String])?["host"], "6e6f64652d61")
        XCTAssertEqual(((json?["chunks"] as? [[String: Any]])?[1])?["offset"] as? Int, 2662)
    }

    func testRandomAndEmptyFixtures() throws {
        let random = try SnapshotReader(path: fixture("random.msnap"))
        XCTAssertEqual(random.layout.chunks.map(\.isRaw), [true, true, true])
        XCTAssertTrue(try random.readAll() == readFile(fixture("random.body")))
        let empty = try SnapshotReader(path: fixture("empty.msnap"))
        XCTAssertEqual(empty.layout.chunks, [])
        XCTAssertEqual(try empty.readAll(), [])
        XCTAssertNoThrow(try empty.verify())
    }

    func testDamagedFixturesFailVerificationNamingTheOffset() throws {
        let damaged = try SnapshotReader(path: fixture("damaged-chunk1.msnap"))
        let error = expectSnapshotError { try damaged.verify() }
        XCTAssertEqual(error?.offset, 2662)
        let inspection = try SnapshotInspection(reader: damaged)
        XCTAssertEqual(inspection.check.chunkOK, [true, false, true, true, true])
        XCTAssertTrue(inspection.text().contains("\nchunk 1: offset 2662 stored 2561 raw 8192 lz4 hash 0x97e93ced6216ed6b BAD\n"))
        XCTAssertEqual(
            expectSnapshotError { try SnapshotReader(path: fixture("truncated.msnap")) },
            .badMagic(path: fixture("truncated.msnap"), offset: 11992, what: "footer end"))
    }

    func testCreateCatAndListThroughTheLibrary() throws {
        let dir = try TempDir()
        defer { dir.cleanup() }
        let meta = SnapshotMeta(
            stateMachineKind: "influxdb-meta", lastIndex: 1000, lastTerm: 3,
            userMetadata: ["host": Array("node-a".utf8), "cluster": Array("c1".utf8)],
            createdAtNanos: 1_700_000_000_000_000_000)
        let out = dir.file("snapshot-00000000000000001000-00000000000000000003.msnap")
        try SnapshotFiles.create(
            from: fixture("records.body"), to: out, meta: meta, options: SnapshotWriterOptions(chunkBytes: 8192))
        // The same input and options give the committed fixture byte for byte.
        XCTAssertEqual(try readFile(out), try readFile(fixture("records.msnap")))
        let catPath = dir.file("cat.out")
        XCTAssertTrue(FileManager.default.createFile(atPath: catPath, contents: nil))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: catPath))
        let written = try SnapshotFiles.copyBody(
            of: SnapshotReader(path: out), to: .init(rawValue: handle.fileDescriptor))
        try handle.close()
        XCTAssertEqual(written, 40000)
        XCTAssertEqual(try readFile(catPath), try readFile(fixture("records.body")))
        try writeFile(dir.file("snapshot-00000000000000002000-00000000000000000004.msnap.partial"), [1])
        let listing = try SnapshotListingEntry.list(directory: dir.path)
        XCTAssertEqual(listing.map(\.kind), [.published, .partial])
        XCTAssertEqual(listing[0].status, "ok: 5 chunks, 40000 raw bytes, influxdb-meta, created 1700000000000000000")
        XCTAssertEqual(listing[1].id, SnapshotID(index: 2000, term: 4))
        XCTAssertEqual(try dir.names().count, 3, "ls changes nothing")
    }
}
