// libFuzzer target for MetaFSM's decoders: `make fuzz`. Built with `-sanitize=fuzzer -DSNAPSHOT_FUZZ`, the
// entry point runs libFuzzer's driver; a plain build replays the files named on the command line.
// `InfluxFuzz --split-commands OUT FILE...` writes each record of `*.commands` files (u32 LE length prefix
// per record) to OUT as one seed, in either build.
import Foundation
import FuzzSupport
import MetaFSM
import MetaInflux

/// Runs one input through the meta.db decoder and the Command decoder. Bad input must throw, never trap.
/// A decoded meta.db must encode to bytes that decode to an equal value; a decoded command is applied to an
/// empty state and to the decoded meta.db (if any), and each resulting state must round-trip the same way.
/// A mismatch traps with a message, so libFuzzer reports the input.
func fuzzOne(_ bytes: [UInt8]) {
    var states = [InfluxStateMachine()]
    if let data = try? InfluxData(metaDB: bytes) {
        expectRoundTrip(data, "decoded meta.db")
        states.append(InfluxStateMachine(data: data))
    }
    guard let command = try? InfluxCommand(decoding: bytes) else { return }
    let again: InfluxCommand
    do { again = try InfluxCommand(decoding: command.encoded()) } catch {
        fatalError("re-encoded command does not decode: \(error)\ncommand: \(command)")
    }
    if again != command { fatalError("command round trip differs:\n\(command)\n\(again)") }
    for var state in states {
        _ = state.apply(index: 1, term: 1, command: command, now: 1_577_836_800_000_000_000)
        expectRoundTrip(state.store.data, "state after applying \(command)")
    }
}

private func expectRoundTrip(_ data: InfluxData, _ what: String) {
    let encoded = data.metaDBBytes()
    let decoded: InfluxData
    do { decoded = try InfluxData(metaDB: encoded) } catch {
        fatalError("\(what): re-encoded meta.db does not decode: \(error)")
    }
    if decoded != data { fatalError("\(what): meta.db round trip differs:\n\(data)\n\(decoded)") }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func influxFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    fuzzOne(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}

/// Splits length-prefixed command records into one file each; returns how many were written.
func splitCommands(into out: String, files: [String]) throws -> Int {
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    var written = 0
    for path in files {
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var at = 0
        while at + 4 <= bytes.count {
            let n = Int(bytes[at]) | Int(bytes[at + 1]) << 8 | Int(bytes[at + 2]) << 16 | Int(bytes[at + 3]) << 24
            guard n <= bytes.count - at - 4 else { break }
            let name = "\(URL(fileURLWithPath: path).lastPathComponent)-\(written)"
            try Data(bytes[(at + 4)..<(at + 4 + n)]).write(to: URL(fileURLWithPath: out + "/" + name))
            written += 1
            at += 4 + n
        }
    }
    return written
}

@main
struct InfluxFuzzMain {
    static func main() throws {
        let args = Array(CommandLine.arguments.dropFirst())
        if args.first == "--split-commands", args.count >= 2 {
            print("wrote \(try splitCommands(into: args[1], files: Array(args.dropFirst(2)))) command seeds")
            return
        }
        try FuzzDriver.run(testOneInput: influxFuzzTestOneInput, replaying: args, with: fuzzOne)
    }
}
