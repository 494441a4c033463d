// libFuzzer target for MetaKV: `make fuzz`. Built with `-sanitize=fuzzer -DSNAPSHOT_FUZZ`, the entry point runs
// libFuzzer's driver; a plain build replays the files named on the command line.
// `KVFuzz --split-commands OUT FILE...` writes each record of `*.commands` files to OUT as one seed.
import Foundation
import FuzzSupport
import MetaKV
import MetaSnapshot

/// The state every input is applied to: a small store with keys, history, a compaction and a lease, so
/// compares, ranges at old revisions and lease puts reach real code.
let seededState: KVStateMachine = {
    var m = KVStateMachine()
    let k = { (s: String) in Array(s.utf8) }
    _ = m.applyRequest(.leaseGrant(LeaseGrantRequest(ttl: 10, id: 7)), encodedSize: 0)
    for i in 0..<6 {
        _ = m.applyRequest(.put(PutRequest(key: k("/a/\(i % 3)"), value: k("v\(i)"), lease: i == 4 ? 7 : 0)), encodedSize: 0)
    }
    _ = m.applyRequest(.deleteRange(DeleteRangeRequest(key: k("/a/1"))), encodedSize: 0)
    _ = m.applyRequest(.compaction(CompactionRequest(revision: 3)), encodedSize: 0)
    return m
}()

/// Decodes one input as an InternalRaftRequest; a decoded request must re-encode to bytes that decode to an
/// equal value, and the re-encoding must be stable. Then the input is applied (as an entry) to a fresh store
/// and to ``seededState``; each resulting state must survive a snapshot round trip. A mismatch traps with a
/// message, so libFuzzer reports the input; bad input itself must never trap.
func fuzzOne(_ bytes: [UInt8]) {
    if let request = try? InternalRaftRequest(decoding: bytes) {
        let encoded = request.encoded()
        let again: InternalRaftRequest
        do { again = try InternalRaftRequest(decoding: encoded) } catch {
            fatalError("re-encoded request does not decode: \(error)\nrequest: \(request)")
        }
        if again != request { fatalError("request round trip differs:\n\(request)\n\(again)") }
        if again.encoded() != encoded { fatalError("re-encoding is not stable: \(request)") }
    }
    for var m in [KVStateMachine(), seededState] {
        _ = bytes.withUnsafeBytes { m.apply(index: m.appliedIndex + 1, term: 1, payload: $0) }
        var sink = ByteSnapshotSink()
        var restored = KVStateMachine()
        do {
            try m.writeSnapshot(to: &sink)
            var source = ByteSnapshotSource(sink.bytes)
            try restored.restoreSnapshot(from: &source)
        } catch { fatalError("snapshot round trip failed: \(error)") }
        if KVJSON.state(restored.store) != KVJSON.state(m.store) { fatalError("restored state differs") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func kvFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// Splits length-prefixed command records into one file each; returns how many were written.
func splitCommands(into out: String, files: [String]) throws -> Int {
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    var written = 0
    for path in files {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        let records = try bytes.withUnsafeBytes { try kvCommandRecords($0) }
        for r in records {
            let name = "\(URL(fileURLWithPath: path).lastPathComponent)-\(written)"
            try Data(bytes[r]).write(to: URL(fileURLWithPath: out + "/" + name))
            written += 1
        }
    }
    return written
}

@main
struct KVFuzzMain {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "--split-commands", args.count >= 2 {
            print("wrote \(try splitCommands(into: args[1], files: Array(args.dropFirst(2)))) seeds")
            return
        }
        try FuzzDriver.run(testOneInput: kvFuzzTestOneInput, replaying: args, with: fuzzOne)
    }
}
