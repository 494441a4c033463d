import Foundation
import MetaEngine
import MetaFSM
import MetaLog
import MetaSnapshot
import XCTest

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) -> String {
    let path = FileManager.default.temporaryDirectory.path + "/metaengine-\(UUID().uuidString.prefix(8))"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    test.addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
    return path
}

/// A small deterministic machine for tests: a map of UInt64 counters. A command is 16 bytes (key, delta,
/// little-endian); applying adds delta to the key and answers the new value. Any other payload size is
/// answered with `nil` (rejected) and changes nothing but the indexes. The snapshot streams the map
/// sorted by key in 4 KiB writes.
struct CounterMachine: StateMachine, Sendable, Equatable {
    typealias ApplyResult = UInt64?
    static let kind = "test-counters"
    static let snapshotVersion: UInt32 = 1

    var counters: [UInt64: UInt64] = [:]
    var appliedIndex: UInt64 = 0
    var appliedTerm: UInt64 = 0
    /// Every (index, term) given to apply or skip, when `recording` (checks order and exactly-once).
    var applyCount: UInt64 = 0

    mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> UInt64? {
        defer {
            appliedIndex = index
            appliedTerm = term
            applyCount += 1
        }
        guard payload.count == 16 else { return nil }
        let key = payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self).littleEndian
        let delta = payload.loadUnaligned(fromByteOffset: 8, as: UInt64.self).littleEndian
        let v = (counters[key] ?? 0) &+ delta
        counters[key] = v
        return v
    }

    mutating func skip(index: UInt64, term: UInt64) {
        appliedIndex = index
        appliedTerm = term
    }

    func writeSnapshot(to sink: inout some SnapshotSink) throws {
        var out: [UInt8] = []
        func put(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        put(appliedIndex)
        put(appliedTerm)
        put(applyCount)
        put(UInt64(counters.count))
        for key in counters.keys.sorted() {
            put(key)
            put(counters[key] ?? 0)
            if out.count >= 4096 {
                try out.withUnsafeBytes { try sink.write($0) }
                out.removeAll(keepingCapacity: true)
            }
        }
        try out.withUnsafeBytes { try sink.write($0) }
    }

    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        let bytes = try source.readAll()
        guard bytes.count >= 32 else { throw MetaFSMError.snapshot(reason: "counter snapshot shorter than 32 bytes") }
        func get(_ at: Int) -> UInt64 {
            bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian }
        }
        let n = Int(get(24))
        guard bytes.count == 32 + 16 * n else {
            throw MetaFSMError.snapshot(reason: "counter snapshot of \(bytes.count) bytes, expected \(32 + 16 * n)")
        }
        var map: [UInt64: UInt64] = [:]
        for k in 0..<n { map[get(32 + 16 * k)] = get(40 + 16 * k) }
        counters = map
        appliedIndex = get(0)
        appliedTerm = get(8)
        applyCount = get(16)
    }

    /// A digest of the state (FNV-1a over the sorted map and the indexes).
    var digest: UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func mix(_ v: UInt64) {
            for i in 0..<8 {
                h ^= (v >> (8 * UInt64(i))) & 0xff
                h = h &* 0x100_0000_01b3
            }
        }
        mix(appliedIndex)
        for key in counters.keys.sorted() {
            mix(key)
            mix(counters[key] ?? 0)
        }
        return h
    }

    /// The payload of a command adding `delta` to `key`.
    static func command(key: UInt64, delta: UInt64) -> [UInt8] {
        var out: [UInt8] = []
        withUnsafeBytes(of: key.littleEndian) { out.append(contentsOf: $0) }
        withUnsafeBytes(of: delta.littleEndian) { out.append(contentsOf: $0) }
        return out
    }
}

/// A batch of counter commands (key i % keys, delta i) at `term`.
func counterBatch(_ range: ClosedRange<UInt64>, term: UInt64, keys: UInt64 = 7) -> EntryBatch {
    var batch = EntryBatch()
    for i in range { batch.append(term: term, payload: CounterMachine.command(key: i % keys, delta: i)) }
    return batch
}

/// Options with no automatic snapshots (tests turn them on when they need them).
func quietOptions() -> EngineOptions {
    var o = EngineOptions()
    o.snapshotEveryEntries = 0
    o.snapshotEveryBytes = 0
    o.trailingEntries = 0
    o.segmentBytes = 64 << 10
    return o
}

/// Waits (polling, bounded) until `engine.appliedIndex >= index`; fails the test on timeout.
func waitApplied<M>(_ engine: MetaEngine<M>, _ index: UInt64, file: StaticString = #filePath, line: UInt = #line) throws {
    let ok = try engine.waitForAppliedSync(index, timeoutNanos: 20_000_000_000)
    XCTAssertTrue(ok, "index \(index) not applied", file: file, line: line)
}

/// Asserts `body` throws exactly `expected`.
func assertEngineError<T>(_ expected: EngineError, file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> T) {
    do {
        _ = try body()
        XCTFail("expected \(expected), nothing thrown", file: file, line: line)
    } catch let error as EngineError {
        XCTAssertEqual(error, expected, file: file, line: line)
    } catch {
        XCTFail("expected \(expected), got \(error)", file: file, line: line)
    }
}
