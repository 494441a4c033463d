// libFuzzer target for MetaLog's segment reading: `make fuzz`. Built with `-sanitize=fuzzer -DSNAPSHOT_FUZZ`,
// the entry point runs libFuzzer's driver; a plain build replays the files named on the command line.
// `LogFuzz --make-corpus OUT` writes small real segments (4 KiB segments, sealed and open) and whole-log
// containers (several segments, first-index and hardstate files) to OUT as seeds.
import Foundation
import FuzzSupport
import MetaLog

/// Stages the input as a log directory and exercises it. Two input shapes:
/// - a bare segment (anything not starting with `MLOGFUZZ`): the only segment of the directory, named
///   after its own header fields (base index at 16, segment id at 24) so that the fuzzer reaches frame and
///   footer checks instead of stopping at a name mismatch;
/// - a container `MLOGFUZZ` u8 segmentCount, then (segmentCount + 2) files, each u32 length + bytes: the
///   segments (named from their headers), then the `first-index` and `hardstate` files (length 0: absent).
///   Multi-segment logs, first-index and hard-state files and their interplay are reached this way.
/// Then it runs `LogInspector.verify` and `hardState`, opens the log with `Log` (which may cut a torn
/// tail), reads every entry and every term, and appends (a conflict overwrite with a hard state, a
/// truncate, a plain append) and reopens. Bad input must throw, never trap.
func fuzzOne(_ bytes: [UInt8]) {
    let dir = NSTemporaryDirectory() + "logfuzz-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for (name, contents) in stage(bytes) {
            try Data(contents).write(to: URL(fileURLWithPath: dir + "/" + name))
        }
    } catch {
        fatalError("cannot stage the input in \(dir): \(error)")
    }
    _ = try? LogInspector.verify(directory: dir)
    _ = try? LogInspector.hardState(directory: dir)
    guard let log = try? Log(directory: dir, options: LogOptions(segmentBytes: 4096)) else { return }
    // Batched reads and the zero-copy scan must agree: the scan delivers what the reads delivered (a read
    // that reaches a damaged frame returns nothing, so the reads may stop earlier), all of it when the reads
    // reached the end, and it stops at a frame a single read also refuses.
    var viaRead: [UInt64] = []  // index, then the payload's CRC, per entry
    var next = log.firstIndex
    while next <= log.lastIndex, next > 0 {
        guard let batch = try? log.read(from: next, maxBytes: 1 << 16), batch.count > 0 else { break }
        for k in 0..<batch.count {
            viaRead.append(batch.header(at: k).index)
            viaRead.append(UInt64(batch.withPayload(at: k) { CRC32C.extend(0, $0) }))
        }
        next += UInt64(batch.count)
    }
    if log.firstIndex > 0 {
        var viaScan: [UInt64] = []
        var stoppedAt: UInt64?
        do {
            try log.forEachEntry(from: log.firstIndex) { header, payload in
                viaScan.append(header.index)
                viaScan.append(UInt64(CRC32C.extend(0, payload)))
                return true
            }
        } catch LogError.corruption(_, _, let index?, _) {
            stoppedAt = index
        } catch {
            fatalError("forEachEntry threw \(error) on a log that opened")
        }
        guard viaScan.count >= viaRead.count, Array(viaScan[0..<viaRead.count]) == viaRead,
            next <= log.lastIndex || viaScan == viaRead
        else { fatalError("forEachEntry and read(from:) disagree") }
        if let stoppedAt {
            guard (try? log.entry(at: stoppedAt)) == nil else { fatalError("the scan refused entry \(stoppedAt), a read did not") }
        }
    }
    _ = try? log.entry(at: log.lastIndex)
    if log.firstIndex > 0 {
        var index = log.firstIndex - 1
        while index <= log.lastIndex && index - (log.firstIndex - 1) < 4096 {
            _ = try? log.term(at: index)
            index += 1
        }
    }
    // Writes on top of whatever was recovered: they must work or throw.
    var batch = EntryBatch()
    batch.append(term: (try? log.term(at: log.lastIndex)) ?? 0, payload: [1, 2, 3])
    let at = log.lastIndex > log.firstIndex ? log.lastIndex : log.lastIndex + 1
    _ = try? log.append(batch, at: at, hardState: HardState(term: 1, vote: 2, commit: 0))
    if log.lastIndex > log.firstIndex { try? log.truncate(after: log.lastIndex - 1) }
    _ = try? log.append(batch)
    try? log.close()
    if let again = try? Log(directory: dir, options: LogOptions(segmentBytes: 4096)) { try? again.close() }
}

/// The files an input stands for: (name, bytes).
func stage(_ bytes: [UInt8]) -> [(String, [UInt8])] {
    let magic = Array("MLOGFUZZ".utf8)
    guard bytes.count > magic.count, Array(bytes[0..<magic.count]) == magic else {
        return [(segmentName(bytes), bytes)]
    }
    var position = magic.count
    let segments = Int(bytes[position] % 5)
    position += 1
    var files: [(String, [UInt8])] = []
    for k in 0..<(segments + 2) {
        guard position + 4 <= bytes.count else { break }
        var length = 0
        for i in 0..<4 { length |= Int(bytes[position + i]) << (8 * i) }
        position += 4
        let end = min(bytes.count, position + length)
        let contents = Array(bytes[position..<end])
        position = end
        if k < segments {
            files.append((segmentName(contents), contents))
        } else if !contents.isEmpty {
            files.append((k == segments ? "first-index" : "hardstate", contents))
        }
    }
    return files
}

/// A segment file's name from its header fields.
func segmentName(_ bytes: [UInt8]) -> String {
    String(format: "%016llx-%020llu.seg", field(bytes, 24), field(bytes, 16))
}

/// The little-endian u64 at `at`, or 1 when the input is too short to hold it.
private func field(_ b: [UInt8], _ at: Int) -> UInt64 {
    guard b.count >= at + 8 else { return 1 }
    var v: UInt64 = 0
    for i in 0..<8 { v |= UInt64(b[at + i]) << (8 * UInt64(i)) }
    return v
}

/// Writes seeds to `out`: single segments of a log with 4 KiB segments (sealed ones and the open one,
/// with hard-state records), and containers holding whole logs (several segments, first-index and
/// hardstate files, a truncation record).
func makeCorpus(_ out: String) throws -> Int {
    let dir = NSTemporaryDirectory() + "logfuzz-corpus-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let log = try Log(directory: dir, options: LogOptions(segmentBytes: 4096, durability: .manual))
    var batch = EntryBatch()
    for i in 0..<300 {
        batch.append(term: 1 + UInt64(i / 100), kind: UInt8(i % 3), payload: [UInt8](repeating: UInt8(i & 0xFF), count: i % 61))
        if i % 7 == 6 { _ = try log.append(batch); batch.removeAll() }
        if i % 50 == 49 { try log.saveHardState(HardState(term: 1 + UInt64(i / 100), vote: 1, commit: UInt64(i / 2))) }
    }
    _ = try log.append(batch)
    try log.removePrefix(through: 40)
    try log.truncate(after: 290)
    try log.close()
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    let names = try FileManager.default.contentsOfDirectory(atPath: dir)
    let segments = names.filter { $0.hasSuffix(".seg") }.sorted()
    for (k, name) in segments.enumerated() where k < 4 || k == segments.count - 1 {
        try? FileManager.default.removeItem(atPath: out + "/" + name)
        try FileManager.default.copyItem(atPath: dir + "/" + name, toPath: out + "/" + name)
    }
    func read(_ name: String) -> [UInt8] { (try? [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/" + name)))) ?? [] }
    var containers = 0
    for window in [Array(segments.prefix(3)), Array(segments.suffix(2)), Array(segments.suffix(4))] {
        var bytes = Array("MLOGFUZZ".utf8) + [UInt8(window.count)]
        for contents in window.map(read) + [read("first-index"), read("hardstate")] {
            let length = UInt32(contents.count)
            bytes += (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) } + contents
        }
        try Data(bytes).write(to: URL(fileURLWithPath: out + "/container-\(containers)"))
        containers += 1
    }
    return min(segments.count, 5) + containers
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
            print("wrote \(try makeCorpus(args[1])) seeds")
            return
        }
        try FuzzDriver.run(testOneInput: logFuzzTestOneInput, replaying: args, with: fuzzOne)
    }
}
