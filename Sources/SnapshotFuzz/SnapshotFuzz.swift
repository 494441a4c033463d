// libFuzzer target for the snapshot reader: `make fuzz`. Built with `-sanitize=fuzzer -DSNAPSHOT_FUZZ`, the
// entry point runs libFuzzer's driver, which calls `LLVMFuzzerTestOneInput`; a plain build gets an entry point
// that runs the same function over the files named on the command line (to replay a crash input).
import CXXHash
import FuzzSupport
import MetaSnapshot

/// Runs every reader entry point over one input. Bad input must throw, never trap. If the input's length is
/// odd, its checksums and chunk hashes are recomputed first (where its own fields locate them), so the
/// fuzzer also reaches the table checks and LZ4 decoding behind them.
func fuzzOne(_ input: [UInt8]) {
    var bytes = input
    if bytes.count % 2 == 1 { reseal(&bytes) }
    guard let reader = try? SnapshotReader(source: SnapshotMemoryStorage(bytes, name: "fuzz")) else { return }
    _ = try? reader.check()
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 3001, alignment: 16)
    defer { buffer.deallocate() }
    while let n = try? reader.read(into: buffer), n > 0 {}
    let count = reader.layout.chunks.count
    for k in [count - 1, 0, count / 2, count] { _ = try? reader.withChunk(k) { $0.count } }
}

private func load(_ b: [UInt8], _ at: Int, _ width: Int) -> UInt64 {
    var v: UInt64 = 0
    for i in 0..<width { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}

private func store(_ b: inout [UInt8], _ at: Int, _ v: UInt64) {
    for i in 0..<8 { b[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) }
}

private func xxh3(_ b: [UInt8], _ range: Range<Int>, seed: UInt64 = 0) -> UInt64 {
    b.withUnsafeBytes { XXH3_64bits_withSeed($0.baseAddress! + range.lowerBound, range.count, seed) }
}

/// Recomputes header checksum, chunk hashes, digest and footer checksum in place (layout of docs/FORMAT.md).
private func reseal(_ b: inout [UInt8]) {
    guard b.count >= 16 else { return }
    let hlen = Int(load(b, 12, 4))
    guard hlen > 16, hlen <= b.count else { return }
    store(&b, hlen - 8, xxh3(b, 0..<(hlen - 8)))
    guard b.count >= hlen + 48 else { return }
    let t = b.count - 48
    let count = load(b, t, 8)
    guard count <= UInt64((t - hlen) / 32) else { return }
    let table = t - Int(count) * 32
    for k in 0..<Int(count) {
        let e = table + 32 * k
        let offset = load(b, e, 8), stored = Int(load(b, e + 8, 4)), raw = load(b, e + 12, 4), flags = load(b, e + 24, 4)
        guard offset <= UInt64(table), stored <= table - Int(offset) else { continue }
        store(&b, e + 16, xxh3(b, Int(offset)..<(Int(offset) + stored), seed: raw << 8 | (flags & 0xFF)))
    }
    store(&b, t + 24, xxh3(Array(b[0..<hlen]) + Array(b[table..<(t + 24)]), 0..<(hlen + t + 24 - table)))
    store(&b, t + 32, xxh3(b, table..<(t + 32)))
}

@_cdecl("LLVMFuzzerTestOneInput")
public func snapshotFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main
struct SnapshotFuzzMain {
    static func main() throws {
        try FuzzDriver.run(
            testOneInput: snapshotFuzzTestOneInput, replaying: Array(CommandLine.arguments.dropFirst()), with: fuzzOne)
    }
}
