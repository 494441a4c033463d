// libFuzzer target for MetaLog's segment reading: `make fuzz`. Built with `-sanitize=fuzzer -DSNAPSHOT_FUZZ`,
// the entry point runs libFuzzer's driver; a plain build replays the files named on the command line.
// `LogFuzz --make-corpus OUT` writes small real segments (4 KiB segments, sealed and open) to OUT as seeds.
import Foundation
import FuzzSupport
import MetaLog

/// Writes the input as the only segment of a fresh log directory, then runs `LogInspector.verify` and opens
/// it with `Log` (which may cut a torn tail) and reads every entry. Bad input must throw, never trap.
/// The file is named after the input's own header fields (base index at 16, segment id at 24) so that the
/// fuzzer reaches frame and footer checks instead of stopping at a name mismatch.
func fuzzOne(_ bytes: [UInt8]) {
    let dir = NSTemporaryDirectory() + "logfuzz-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let name = String(format: "%016llx-%020llu.seg", field(bytes, 24), field(bytes, 16))
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/" + name))
    } catch {
        fatalError("cannot stage the input in \(dir): \(error)")
    }
    _ = try? LogInspector.verify(directory: dir)
    guard let log = try? Log(directory: dir) else { return }
    defer { try? log.close() }
    var next = log.firstIndex
    while next <= log.lastIndex, next > 0 {
        guard let batch = try? log.read(from: next, maxBytes: 1 << 16), batch.count > 0 else { break }
        for k in 0..<batch.count { _ = batch.withPayload(at: k) { $0.count } }
        next += UInt64(batch.count)
    }
    _ = try? log.entry(at: log.lastIndex)
}

/// The little-endian u64 at `at`, or 1 when the input is too short to hold it.
private func field(_ b: [UInt8], _ at: Int) -> UInt64 {
    guard b.count >= at + 8 else { return 1 }
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}

/// Appends a few hundred entries with 4 KiB segments and copies every segment file into `out`.
func makeCorpus(_ out: String) throws -> Int {
    let dir = NSTemporaryDirectory() + "logfuzz-corpus-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let log = try Log(directory: dir, options: LogOptions(segmentBytes: 4096, durability: .manual))
    var batch = EntryBatch()
    for i in 0..<300 {
        batch.append(term: 1 + UInt64(i / 100), kind: UInt8(i % 3), payload: [UInt8](repeating: UInt8(i & 0xFF), count: i % 61))
        if i % 7 == 6 { _ = try log.append(batch); batch.removeAll() }
    }
    _ = try log.append(batch)
    try log.close()
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let segments = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".seg") }.sorted()
    for (k, name) in segments.enumerated() where k < 4 || k == segments.count - 1 {
        try? FileManager.default.removeItem(atPath: out + "/" + name)
        try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: out + "/" + name)
    }
    return min(segments.count, 5)
}

@_cdecl("LLVMFuzzerTestOneInput")
public func logFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

@main
struct LogFuzzMain {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "--make-corpus", args.count == 2 {
            print("wrote \(try makeCorpus(args[1])) segment seeds")
            return
        }
        try FuzzDriver.run(testOneInput: logFuzzTestOneInput, replaying: args, with: fuzzOne)
    }
}
