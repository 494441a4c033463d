import ArgumentParser
import Foundation
import MetaEngine
import MetaFSM
import MetaKV
import MetaSnapshot

/// `metactl kv`: offline tools for the etcd key-value machine (command streams, snapshot files).
struct KVCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv", abstract: "Offline tools for the etcd 3.4 key-value state machine (MetaKV).",
        subcommands: [KVApply.self, KVGet.self, KVRange.self])
}

/// `metactl kv apply`: replays a command stream from a fresh store, as the etcd oracle does.
struct KVApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply a command stream (uint32 LE length + InternalRaftRequest records) to a fresh store.",
        discussion: """
            Command n is entry n, term 1. Writes one canonical JSON line per command (the oracle's \
            expect.jsonl shape) and the final state (state.json shape); `etcd-oracle/run check` accepts both. \
            With --snapshot, also writes the final state as a MetaSnapshot file for `kv get`/`kv range`. \
            Exit status 0 even when commands were rejected; 1 when the stream cannot be read.
            """)

    @Option(help: "The command stream file.") var commands: String
    @Option(help: "Where to write the response lines (JSONL).") var responses: String?
    @Option(help: "Where to write the final state (canonical JSON).") var state: String?
    @Option(help: "Where to write the final state as a snapshot file.") var snapshot: String?

    func run() throws {
        let stream = try influxReadFile(commands)
        var machine = KVStateMachine()
        var out = ""
        var count = 0, rejected = 0
        try stream.withUnsafeBytes { raw in
            let records: [Range<Int>]
            do { records = try kvCommandRecords(raw) } catch { throw ValidationErrorText("\(commands): \(error)") }
            for (i, r) in records.enumerated() {
                let result = machine.apply(index: UInt64(i + 1), term: 1, payload: UnsafeRawBufferPointer(rebasing: raw[r]))
                if case .failure = result { rejected += 1 }
                out += KVJSON.line(result) + "\n"
                count += 1
            }
        }
        if let responses { try influxWriteFile(responses, Array(out.utf8)) }
        if let state { try influxWriteFile(state, Array(KVJSON.state(machine.store).utf8)) }
        if let snapshot {
            let meta = SnapshotMeta(stateMachineKind: KVStateMachine.kind,
                                    stateMachineVersion: KVStateMachine.snapshotVersion,
                                    lastIndex: machine.appliedIndex, lastTerm: machine.appliedTerm)
            var sink = KVFileSink(writer: try SnapshotWriter(path: snapshot, meta: meta))
            try machine.writeSnapshot(to: &sink)
            _ = try sink.writer.finish()
        }
        FileHandle.standardError.write(Data("applied \(count) commands, \(rejected) rejected, revision \(machine.store.revision)\n".utf8))
    }
}

/// Adapts a `SnapshotWriter` to the `SnapshotSink` seam.
struct KVFileSink: SnapshotSink {
    let writer: SnapshotWriter
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws { try writer.write(bytes) }
}

/// Adapts a `SnapshotReader` to the `SnapshotSource` seam.
struct KVFileSource: SnapshotSource {
    let reader: SnapshotReader
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int { try reader.read(into: buffer) }
}

/// Where `kv get`/`kv range` read from, and how keys are spelled.
struct KVReadOptions: ParsableArguments {
    @Option(help: "A MetaKV snapshot file (metactl kv apply --snapshot, or MetaEngine's snapshot store).")
    var snapshot: String?
    @Option(help: "An engine directory (log/ + snapshots/): newest snapshot + the committed log, read-only.")
    var engine: String?
    @Flag(help: "Keys are given in hex.") var hex = false
    @Option(help: "Read at this revision (0: current).") var revision: Int64 = 0

    func key(_ text: String) throws -> [UInt8] {
        guard hex else { return Array(text.utf8) }
        var out: [UInt8] = []
        var chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { throw ValidationErrorText("\(text): odd number of hex digits") }
        while !chars.isEmpty {
            guard let b = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else {
                throw ValidationErrorText("\(text): not hex")
            }
            out.append(b)
            chars.removeFirst(2)
        }
        return out
    }

    func validate() throws {
        guard (snapshot == nil) != (engine == nil) else { throw ValidationError("give exactly one of --snapshot and --engine") }
    }

    /// The state to read: a snapshot file restored, or an engine directory replayed read-only (no lock taken,
    /// nothing repaired: it may run beside a live engine).
    func machine() throws -> KVStateMachine {
        if let engine {
            do { return try EngineInspector.replay(directory: engine, stateMachine: KVStateMachine()).machine } catch {
                throw ValidationErrorText("\(engine): \(error)")
            }
        }
        let snapshot = snapshot ?? ""
        let reader: SnapshotReader
        do { reader = try SnapshotReader(path: snapshot) } catch { throw ValidationErrorText("\(snapshot): \(error)") }
        guard reader.meta.stateMachineKind == KVStateMachine.kind else {
            throw ValidationErrorText("\(snapshot): holds a \"\(reader.meta.stateMachineKind)\" state, not \"\(KVStateMachine.kind)\"")
        }
        var m = KVStateMachine()
        var source = KVFileSource(reader: reader)
        do { try m.restoreSnapshot(from: &source) } catch { throw ValidationErrorText("\(snapshot): \(error)") }
        return m
    }

    func print(_ result: Result<RangeResponse, KVError>) throws {
        switch result {
        case .success(let r): Swift.print(KVJSON.line(.success(.range(r))))
        case .failure(let e): throw ValidationErrorText(e.description)
        }
    }
}

/// `metactl kv get KEY`: one key, as a RangeResponse in canonical JSON.
struct KVGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Read one key from a snapshot file or an engine directory; prints a RangeResponse as canonical JSON.")
    @OptionGroup var options: KVReadOptions
    @Argument(help: "The key.") var key: String

    func run() throws {
        let m = try options.machine()
        var r = RangeRequest(key: try options.key(key))
        r.revision = options.revision
        try options.print(m.range(r))
    }
}

/// `metactl kv range KEY [END]`: a range, as a RangeResponse in canonical JSON.
struct KVRange: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "range", abstract: "Read a key range from a snapshot file or an engine directory; prints a RangeResponse as canonical JSON.")
    @OptionGroup var options: KVReadOptions
    @Argument(help: "First key.") var key: String
    @Argument(help: "End of the range (exclusive); without it (and without --prefix/--from-key) just KEY.") var end: String?
    @Flag(help: "Every key starting with KEY.") var prefix = false
    @Flag(name: .customLong("from-key"), help: "Every key >= KEY.") var fromKey = false
    @Option(help: "At most this many keys.") var limit: Int64 = 0
    @Flag(name: .customLong("keys-only")) var keysOnly = false
    @Flag(name: .customLong("count-only")) var countOnly = false

    func run() throws {
        let m = try options.machine()
        let k = try options.key(key)
        var r = RangeRequest(key: k, limit: limit, revision: options.revision)
        if prefix { r.rangeEnd = KVKeys.prefixEnd(k) } else if fromKey { r.rangeEnd = [0] } else if let end {
            r.rangeEnd = try options.key(end)
        }
        r.keysOnly = keysOnly
        r.countOnly = countOnly
        try options.print(m.range(r))
    }
}
