import Foundation
import SystemPackage
import XCTest

import MetaLog
@testable import MetaSnapshot

/// A fresh directory under the system temp dir, removed by `cleanup()`.
struct TempDir {
    let path: String

    init() throws {
        path = NSTemporaryDirectory() + "metasnapshot-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> String { path + "/" + name }
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }
    func cleanup() { try? FileManager.default.removeItem(atPath: path) }
}


/// Deterministic pseudo-random bytes (splitmix64), incompressible.
func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
    var rng = SplitMix64(state: seed)
    var out = [UInt8]()
    out.reserveCapacity(count + 8)
    while out.count < count {
        withUnsafeBytes(of: rng.next()) { out.append(contentsOf: $0) }
    }
    return Array(out[..<count])
}

/// Compressible, metadata-like bytes: repeated small records with a varying counter.
func recordBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8]()
    out.reserveCapacity(count + 64)
    var i = 0
    while out.count < count {
        out.append(contentsOf: Array("\u{0A}\u{0C}database-\(i % 7)\u{12}\u{08}rp-\(i % 3)\u{18}".utf8))
        out.append(UInt8(truncatingIfNeeded: i))
        i += 1
    }
    return Array(out[..<count])
}

func readFile(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

func writeFile(_ path: String, _ bytes: [UInt8]) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

let sampleMeta = SnapshotMeta(
    stateMachineKind: "kv", stateMachineVersion: 3, lastIndex: 42, lastTerm: 7, membership: [1, 2, 3],
    userMetadata: ["host": Array("node-a".utf8), "empty": []], createdAtNanos: 1_700_000_000_123_456_789)

/// Writes a snapshot of `body` to a new file in `dir` and returns the file's bytes.
func makeSnapshot(
    _ body: [UInt8], in dir: TempDir, name: String = "s.msnap", meta: SnapshotMeta = sampleMeta,
    chunkBytes: Int = 1 << 20, minor: UInt16 = SnapshotFormat.minor, pieces: Int = 1
) throws -> [UInt8] {
    var options = SnapshotWriterOptions(chunkBytes: chunkBytes, syncOnFinish: false)
    options.formatMinor = minor
    let writer = try SnapshotWriter(path: dir.file(name), meta: meta, options: options)
    let step = max(1, body.count / max(pieces, 1))
    var i = 0
    while i < body.count {
        try writer.write(Array(body[i..<min(i + step, body.count)]))
        i += step
    }
    try writer.finish()
    return try readFile(dir.file(name))
}

/// Rebuilds a snapshot file around a new header, keeping its chunks (offsets, footer and digest recomputed).
func reframe(_ file: [UInt8], header: [UInt8]) throws -> [UInt8] {
    let layout = try SnapshotLayout(source: SnapshotMemoryStorage(file))
    var out = header
    var table = ByteWriter()
    for chunk in layout.chunks {
        table.u64(UInt64(out.count))
        out.append(contentsOf: file[Int(chunk.offset)..<Int(chunk.offset) + Int(chunk.storedLength)])
        table.u32(chunk.storedLength)
        table.u32(chunk.rawLength)
        table.u64(chunk.hash)
        table.u32(chunk.flags)
        table.u32(0)
    }
    let tableOffset = UInt64(out.count)
    out.append(contentsOf: table.buffer)
    var trailer = ByteWriter()
    trailer.u64(UInt64(layout.chunks.count))
    trailer.u64(layout.rawLength)
    trailer.u64(tableOffset)
    out.append(contentsOf: trailer.buffer)
    let digest = (header + out[Int(tableOffset)...]).withUnsafeBytes { SnapshotFormat.hash($0) }
    withUnsafeBytes(of: digest.littleEndian) { out.append(contentsOf: $0) }
    let checksum = out[Int(tableOffset)...].withUnsafeBytes { SnapshotFormat.hash($0) }
    withUnsafeBytes(of: checksum.littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: SnapshotFormat.endMagic)
    return out
}

/// Replaces the header checksum after a test edited header bytes.
func resealHeader(_ header: [UInt8]) -> [UInt8] {
    var h = Array(header[..<(header.count - 8)])
    let checksum = h.withUnsafeBytes { SnapshotFormat.hash($0) }
    withUnsafeBytes(of: checksum.littleEndian) { h.append(contentsOf: $0) }
    return h
}

/// Asserts that `body` throws a `SnapshotError` and returns it.
func expectSnapshotError<T>(
    _ body: () throws -> T, file: StaticString = #filePath, line: UInt = #line
) -> SnapshotError? {
    do {
        _ = try body()
        XCTFail("expected a SnapshotError", file: file, line: line)
    } catch let error as SnapshotError {
        return error
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
    return nil
}
