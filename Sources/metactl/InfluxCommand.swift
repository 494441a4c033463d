import ArgumentParser
import Foundation
import MetaFSM
import MetaInflux

/// `metactl influx`: the influx subcommands.
struct InfluxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "influx", abstract: "Offline tools for InfluxDB meta data (meta.db files, command streams).",
        subcommands: [InfluxApply.self, InfluxDump.self, InfluxGenerate.self])
}

/// `metactl influx apply`: replays a command stream from the empty state, as the conformance oracle does.
struct InfluxApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a command stream (uint32 LE length + meta.Command records) to an empty state.",
        discussion: """
            Command n runs with Term 1, Index n and the clock 1577836800 + n seconds (the conformance \
            convention). Writes the final state as a meta.db and, with --errors, the per-command results in \
            the fixtures' expect.json shape. Exit status 0 even when commands were rejected; 1 when the \
            stream cannot be read.
            """)

    @Option(help: "The command stream file.") var commands: String
    @Option(help: "Where to write the final state (meta.db bytes).") var out: String
    @Option(help: "Where to write the per-command results as JSON (null or InfluxDB's error string).")
    var errors: String?
    @Option(help: "Where to write the final state as canonical JSON.") var json: String?
    @Option(help: "Clock base in Unix seconds (now = base + index).") var clockBase: Int64 = 1_577_836_800

    func run() throws {
        let stream = try influxReadFile(commands)
        var machine = InfluxStateMachine(clock: .indexSeconds(baseUnixSeconds: clockBase))
        var results: [InfluxError?] = []
        try stream.withUnsafeBytes { raw in
            let records: [Range<Int>]
            do { records = try influxCommandRecords(raw) } catch { throw ValidationErrorText("\(commands): \(error)") }
            results.reserveCapacity(records.count)
            for (i, r) in records.enumerated() {
                results.append(machine.apply(index: UInt64(i + 1), term: 1, payload: UnsafeRawBufferPointer(rebasing: raw[r])))
            }
        }
        try influxWriteFile(out, machine.store.data.metaDBBytes())
        if let errors { try influxWriteFile(errors, Array(influxExpectJSON(results).utf8)) }
        if let json { try influxWriteFile(json, Array(machine.store.data.canonicalJSON().utf8)) }
        let rejected = results.filter { $0 != nil }.count
        FileHandle.standardError.write(Data("applied \(results.count) commands, \(rejected) rejected\n".utf8))
    }
}

/// `metactl influx dump`: prints a meta.db.
struct InfluxDump: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump", abstract: "Print a meta.db: a summary, or with --json the fixtures' canonical JSON.")

    @Argument(help: "The meta.db file.") var file: String
    @Flag(help: "Print the canonical JSON (keys sorted, 64-bit numbers as strings).") var json = false

    func run() throws {
        let data: InfluxData
        do { data = try InfluxData(metaDB: try influxReadFile(file)) } catch let e as MetaFSMError {
            throw ValidationErrorText("\(file): \(e)")
        }
        if json {
            FileHandle.standardOutput.write(Data(data.canonicalJSON().utf8))
        } else {
            print(influxSummary(data), terminator: "")
        }
    }
}

/// `metactl influx generate`: writes Bench's synthetic command stream, for timing other implementations
/// (e.g. `shared/conformance/oracle/run replay --commands FILE`) on the identical work.
struct InfluxGenerate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write the benchmark command stream (mostly CreateShardGroup and SetPrivilege) in fixture format.")

    @Option(help: "Number of commands.") var count: Int = 1_000_000
    @Option(help: "Generator seed.") var seed: UInt64 = 1
    @Option(help: "Output file.") var out: String

    func validate() throws {
        if count <= 0 { throw ValidationError("--count must be positive, got \(count)") }
    }

    func run() throws {
        try influxWriteFile(out, influxCommandStream(InfluxWorkloadGenerator.stream(commands: count, seed: seed)))
    }
}
