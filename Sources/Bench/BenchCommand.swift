import ArgumentParser
import Foundation

/// Every workload Bench knows; `all` runs them in this order.
enum Workload: String, CaseIterable, ExpressibleByArgument {
    case appendBatch = "append-batch"
    case appendSync = "append-sync"
    case appendSyncBatch = "append-sync-batch"
    /// append-sync-batch after removePrefix: into recycled segment files and into new ones.
    case appendSyncBatchSteady = "append-sync-batch-steady"
    /// A Raft follower's step: each call appends one entry and saves a new hard state (one fdatasync).
    case appendSyncHardState = "append-sync-hardstate"
    case appendLarge = "append-large"
    case replay
    case randomRead = "random-read"
    case crc32c
    case lz4
    case snapshotWrite = "snapshot-write"
    case snapshotRead = "snapshot-read"
    case open
    case influxApply = "influx-apply"
    case memory
    case kvPut = "kv-put"
    case kvGet = "kv-get"
    case kvRange = "kv-range"
    case kvDurable = "kv-durable"
    case kvCow = "kv-cow"
    case engineRecover = "engine-recover"
    case engineSnapshot = "engine-snapshot"
    case enginePropose = "engine-propose"
    case all

    /// The peers' defaults (N, S, B) for the six log workloads; replay and random-read read the
    /// append-batch log. Nil for the others.
    var logDefaults: (entries: Int, entryBytes: Int, batch: Int)? {
        switch self {
        case .appendBatch, .replay, .randomRead: (500_000, 128, 64)
        case .appendSync, .appendSyncHardState: (5_000, 128, 1)
        case .appendSyncBatch, .appendSyncBatchSteady: (100_000, 128, 64)
        case .appendLarge: (20_000, 4096, 16)
        default: nil
        }
    }
}

/// Settings every workload sees.
struct BenchOptions {
    /// Progress lines on stderr (off with --json).
    var progress: Bool
    /// Report mallocs per entry on the log hot paths (--mallocs).
    var countMallocs: Bool
    /// Short sizes (--quick).
    var quick: Bool
}

/// `swift run -c release Bench`: MetaEngine's benchmarks, with the same flags, defaults, payload and
/// directory rules as ../shared/peers for the log workloads.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "Bench",
        abstract: "Measures MetaLog and the rest of MetaEngine (same workloads and JSON schema as the peers).")

    @Option(help: "Workload to run: \(Workload.allCases.map(\.rawValue).joined(separator: "|")).")
    var workload: Workload = .all

    @Option(help: "Data directory (default: a fresh temporary directory, removed at the end).")
    var dir: String?

    @Option(help: "Entries N (log size for replay/random-read); overrides every selected log workload.")
    var entries: Int?

    @Option(name: .customLong("entry-bytes"), help: "Payload bytes S per entry.")
    var entryBytes: Int?

    @Option(help: "Entries B per append call.")
    var batch: Int?

    @Option(help: "Random reads R (random-read; default 100000).")
    var reads: Int?

    @Option(help: "Keys K of the kv workloads (default 100000).")
    var keys: Int?

    @Option(help: "Concurrent clients C of kv-durable (default 16).")
    var clients: Int?

    @Flag(help: "One JSON line per workload in the peers' schema, with \"system\":\"metalog\".")
    var json = false

    @Flag(help: "Short sizes (a tenth of the log workloads' N and R; smaller buffers and logs elsewhere).")
    var quick = false

    @Flag(help: "Count malloc/calloc/realloc calls per entry on the log hot paths (release builds).")
    var mallocs = false

    func validate() throws {
        for (name, value) in [("--entries", entries), ("--entry-bytes", entryBytes), ("--batch", batch),
                              ("--reads", reads)] {
            if let value, value <= 0 { throw ValidationError("\(name) must be positive, got \(value)") }
        }
    }

    func run() throws {
        let options = BenchOptions(progress: !json, countMallocs: mallocs, quick: quick)
        if mallocs && MallocCounter.install() == 0 {
            Progress.write("warning: malloc counting is unavailable (debug build?); counts will read 0\n")
        }
        let temporary = dir == nil ? try BenchDirectory.makeTemporary() : nil
        defer { if let temporary { BenchDirectory.remove(temporary) } }
        guard let root = dir ?? temporary else { return }
        try BenchDirectory.create(root)

        if !json { printHeader(root: root) }
        // kv-durable needs MetaEngine; `all` leaves it out until it is wired (KVWorkloads.durable).
        let selected = workload == .all ? Workload.allCases.filter { $0 != .all && $0 != .kvDurable } : [workload]
        var failures = 0
        for w in selected {
            let directory = workload == .all ? root + "/" + subdirectory(w) : root
            do {
                for result in try runOne(w, directory: directory, options: options) {
                    Output.line(json ? ResultPrinter.jsonLine(result) : ResultPrinter.tableRow(result))
                }
            } catch {
                failures += 1
                let reason = "\(error)"
                Output.line(json ? ResultPrinter.jsonFailure(workload: w.rawValue, reason: reason)
                                 : ResultPrinter.tableFailure(workload: w.rawValue, reason: reason))
                if json { Progress.write("error: \(w.rawValue): \(reason)\n") }
            }
            if workload == .all, ![.appendBatch, .replay].contains(w),
               temporary != nil || ![.enginePropose, .engineRecover, .engineSnapshot].contains(w) {
                // Engine directories stay under --dir for `metactl engine stat|verify`.
                // Keep the shared log for replay/random-read; drop the rest as soon as it is measured.
                if w != .randomRead || temporary != nil { BenchDirectory.remove(directory) }
            }
        }
        if failures > 0 { throw ExitCode(1) }
    }

    /// With `--workload all` each workload gets a subdirectory; append-batch, replay and random-read share
    /// one, as in the peers' `run`.
    func subdirectory(_ w: Workload) -> String {
        switch w {
        case .appendBatch, .replay, .randomRead: "log"
        default: w.rawValue
        }
    }

    /// N, S, B, R for a log workload: the peers' defaults, a tenth of N and R with --quick, then the flags.
    func params(_ w: Workload) -> LogParams {
        let d = w.logDefaults ?? (500_000, 128, 64)
        let scale = { (n: Int) in quick ? max(1, (n + 5) / 10) : n }
        return LogParams(entries: entries ?? scale(d.entries), entryBytes: entryBytes ?? d.entryBytes,
                         batch: batch ?? d.batch, reads: reads ?? scale(100_000))
    }

    func runOne(_ w: Workload, directory: String, options: BenchOptions) throws -> [BenchResult] {
        switch w {
        case .appendBatch, .appendLarge:
            return [try LogWorkloads.append(workload: w.rawValue, directory: directory, params: params(w),
                                            syncEachCall: false, options: options)]
        case .appendSync, .appendSyncBatch:
            return [try LogWorkloads.append(workload: w.rawValue, directory: directory, params: params(w),
                                            syncEachCall: true, options: options)]
        case .appendSyncBatchSteady:
            return try LogSteadyWorkload.run(directory: directory, params: params(w), options: options)
        case .appendSyncHardState:
            return [try LogWorkloads.append(workload: w.rawValue, directory: directory, params: params(w),
                                            syncEachCall: true, withHardState: true, options: options)]
        case .replay:
            return try LogWorkloads.replay(directory: directory, params: params(w), options: options)
        case .randomRead:
            return [try LogWorkloads.randomRead(directory: directory, params: params(w), options: options)]
        case .crc32c:
            return try PrimitiveWorkloads.crc32c(quick: quick, options: options)
        case .lz4:
            return try PrimitiveWorkloads.lz4(quick: quick, options: options)
        case .snapshotWrite, .snapshotRead:
            try BenchDirectory.create(directory)
            return try SnapshotWorkloads.run(name: w.rawValue, directory: directory, quick: quick)
        case .influxApply:
            try BenchDirectory.create(directory)
            return try InfluxWorkloads.run(directory: directory, quick: quick)
        case .open:
            try BenchDirectory.create(directory)
            return try LogSizeWorkloads.open(directory: directory, quick: quick, options: options)
        case .memory:
            try BenchDirectory.create(directory)
            return try LogSizeWorkloads.memory(directory: directory, quick: quick, options: options)
        case .kvPut, .kvGet, .kvRange, .kvDurable, .kvCow:
            try BenchDirectory.create(directory)
            let scale = { (n: Int) in quick ? max(1, (n + 5) / 10) : n }
            let p = KVWorkloads.Params(
                entries: entries ?? scale(w == .kvDurable ? 20_000 : 1_000_000), entryBytes: entryBytes ?? 128,
                batch: batch ?? 1, reads: reads ?? scale(100_000), keys: keys ?? 100_000, clients: clients ?? 16)
            return [try KVWorkloads.run(w.rawValue, directory: directory, params: p)]
        case .enginePropose:
            try BenchDirectory.create(directory)
            return try EngineWorkloads.propose(directory: directory, entries: entries ?? (quick ? 5_000 : 50_000),
                                               proposers: 16, options: options)
        case .engineRecover:
            try BenchDirectory.create(directory)
            return try EngineWorkloads.recover(directory: directory, keys: quick ? 100_000 : 1_000_000, options: options)
        case .engineSnapshot:
            try BenchDirectory.create(directory)
            return try EngineWorkloads.snapshot(directory: directory, keys: quick ? 100_000 : 1_000_000, options: options)
        case .all:
            return []
        }
    }

    func printHeader(root: String) {
        let formatter = ISO8601DateFormatter()
        Output.line("MetaEngine Bench, \(formatter.string(from: Date()))\(quick ? ", --quick sizes" : "")")
        for line in Machine.current(dataDirectory: root).headerLines { Output.line(line) }
        Output.line("units: ops = entries (reads for random-read, passes for crc32c, chunks for lz4); "
              + "bytes = payload bytes per op; latency in microseconds")
        Output.line("")
        Output.line(ResultPrinter.tableHeader())
    }
}
