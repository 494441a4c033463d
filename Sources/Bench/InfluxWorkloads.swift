import Foundation
import MetaFSM
import MetaInflux
import GeneratedProto
import SwiftProtobuf

/// `influx-apply`: decode + apply throughput of the InfluxDB meta state machine, and meta.db encode/decode
/// speed, each next to swift-protobuf's generated code where it does the same work.
///
/// Streams: the visible conformance fixtures (replayed from empty, many times) and a generated stream of
/// 1,000,000 commands (100,000 with --quick; `InfluxWorkloadGenerator`), written to
/// `<dir>/influx-apply-<n>.commands` so the InfluxDB oracle can time the identical work:
/// `shared/conformance/oracle/run replay --commands <dir>/influx-apply-<n>.commands`.
enum InfluxWorkloads {
    static let fixtureDirectory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/influxdb")

    /// Runs the InfluxDB meta-store workloads in `directory`; `quick` shrinks sizes.
    static func run(directory: String, quick: Bool) throws -> [BenchResult] {
        var results: [BenchResult] = []
        results.append(try fixtureReplay(quick: quick))
        let n = quick ? 100_000 : 1_000_000
        let stream = influxCommandStream(InfluxWorkloadGenerator.stream(commands: n))
        let path = directory + "/influx-apply-\(n).commands"
        guard FileManager.default.createFile(atPath: path, contents: Data(stream)) else {
            throw BenchFailure(description: "influx-apply: cannot write \(path)")
        }
        let (applied, state) = try replay(stream, workload: "influx-apply-\(quick ? "100k" : "1m")")
        results.append(applied)
        results.append(try commandDecodeSwiftProtobuf(stream, quick: quick))
        results += try metaDB(state, quick: quick)
        return results
    }

    /// Decodes and applies every record of `stream` from the empty state; returns the timing and the
    /// final state.
    static func replay(_ stream: [UInt8], workload: String) throws -> (BenchResult, InfluxData) {
        var machine = InfluxStateMachine()
        var rejected = 0
        var count = 0
        let mallocs0 = MallocCounter.count
        let start = BenchClock.nanos()
        try stream.withUnsafeBytes { raw in
            let records = try influxCommandRecords(raw)
            count = records.count
            for (i, r) in records.enumerated()
            where machine.apply(index: UInt64(i + 1), term: 1, payload: UnsafeRawBufferPointer(rebasing: raw[r])) != nil {
                rejected += 1
            }
        }
        let seconds = BenchClock.seconds(since: start)
        let mallocs = MallocCounter.count - mallocs0
        let groups = machine.store.data.databases.reduce(0) { $0 + $1.retentionPolicies.reduce(0) { $0 + $1.shardGroups.count } }
        let result = BenchResult(
            workload: workload, entries: count, entryBytes: stream.count / max(count, 1), batch: 1, seconds: seconds,
            note: "decode+apply from empty; \(rejected) rejected; \(groups) shard groups at the end",
            extra: [("us_per_cmd", seconds * 1e6 / Double(max(count, 1)))]
                + (MallocCounter.patchedSlots > 0 ? [("mallocs_per_cmd", Double(mallocs) / Double(max(count, 1)))] : []))
        return (result, machine.store.data)
    }

    /// The 33 visible fixture streams, each replayed from empty, repeated.
    static func fixtureReplay(quick: Bool) throws -> BenchResult {
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtureDirectory.path)
            .filter { $0.hasSuffix(".commands") }.sorted()
        guard !names.isEmpty else { throw BenchFailure(description: "no fixtures in \(fixtureDirectory.path)") }
        let streams = try names.map { Array(try Data(contentsOf: fixtureDirectory.appendingPathComponent($0))) }
        let reps = quick ? 20 : 200
        var commands = 0
        var bytes = 0
        let start = BenchClock.nanos()
        for _ in 0..<reps {
            for s in streams {
                try s.withUnsafeBytes { raw in
                    var m = InfluxStateMachine()
                    for (i, r) in try influxCommandRecords(raw).enumerated() {
                        _ = m.apply(index: UInt64(i + 1), term: 1, payload: UnsafeRawBufferPointer(rebasing: raw[r]))
                        commands += 1
                    }
                }
                bytes += s.count
            }
        }
        let seconds = BenchClock.seconds(since: start)
        return BenchResult(
            workload: "influx-apply-fixtures", entries: commands, entryBytes: bytes / max(commands, 1), batch: 1,
            seconds: seconds, note: "\(streams.count) visible fixture streams x \(reps), each from empty")
    }

    /// Decoding the same stream with swift-protobuf's generated code (decode only, no apply).
    static func commandDecodeSwiftProtobuf(_ stream: [UInt8], quick: Bool) throws -> BenchResult {
        var count = 0
        var ours = 0.0
        var theirs = 0.0
        try stream.withUnsafeBytes { raw in
            let records = try influxCommandRecords(raw)
            count = records.count
            var start = BenchClock.nanos()
            var sink = 0
            for r in records { sink &+= try InfluxCommand(decoding: UnsafeRawBufferPointer(rebasing: raw[r])).typeNumber }
            ours = BenchClock.seconds(since: start)
            start = BenchClock.nanos()
            for r in records {
                let c = try Meta_Command(serializedBytes: Data(raw[r]), extensions: Meta_Meta_Extensions)
                sink &+= Int(c.type.rawValue)
            }
            theirs = BenchClock.seconds(since: start)
            if sink == 42 { print("") }
        }
        return BenchResult(
            workload: "influx-decode-swiftprotobuf", entries: count, entryBytes: stream.count / max(count, 1), batch: 1,
            seconds: theirs, note: "command decode only, generated code; hand-written decode: \(Int(Double(count) / ours)) cmd/s",
            extra: [("hand_written_speedup", theirs / max(ours, 1e-9))])
    }

    /// meta.db encode and decode of the final state of the generated stream, hand-written and generated.
    static func metaDB(_ state: InfluxData, quick: Bool) throws -> [BenchResult] {
        let bytes = state.metaDBBytes()
        let reps = quick ? 20 : 100
        var start = BenchClock.nanos()
        var total = 0
        for _ in 0..<reps { total &+= state.metaDBBytes(capacityHint: bytes.count + 64).count }
        let encode = BenchClock.seconds(since: start)
        start = BenchClock.nanos()
        for _ in 0..<reps { total &+= try InfluxData(metaDB: bytes).databases.count }
        let decode = BenchClock.seconds(since: start)
        let reference = try Meta_Data(serializedBytes: bytes)
        start = BenchClock.nanos()
        for _ in 0..<reps { total &+= (try reference.serializedBytes() as [UInt8]).count }
        let spEncode = BenchClock.seconds(since: start)
        start = BenchClock.nanos()
        for _ in 0..<reps { total &+= try Meta_Data(serializedBytes: bytes).databases.count }
        let spDecode = BenchClock.seconds(since: start)
        if total == 42 { print("") }
        let note = "meta.db of \(bytes.count) bytes (final state of the generated stream)"
        func r(_ name: String, _ s: Double) -> BenchResult {
            BenchResult(workload: name, entries: reps, entryBytes: bytes.count, batch: 1, seconds: s, note: note)
        }
        return [r("influx-metadb-encode", encode), r("influx-metadb-decode", decode),
                r("influx-metadb-encode-swiftprotobuf", spEncode), r("influx-metadb-decode-swiftprotobuf", spDecode)]
    }
}
