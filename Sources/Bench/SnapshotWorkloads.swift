import Foundation
import MetaSnapshot

/// `snapshot-write` and `snapshot-read`: a 256 MiB snapshot body (32 MiB with `quick`) of metadata-like content
/// (repeated protobuf-style records) and of random bytes, written compressed with `SnapshotWriter` and read back
/// through `SnapshotReader` (every chunk hash checked). Write figures exclude the final fsync (reported apart as
/// `fsync_s`). Baselines: the same writer with compression off (`no_compression_mb_per_s`, which the random-bytes
/// case must match: incompressible chunks are detected by a 16 KiB probe and stored raw) and a plain write of the
/// same bytes to a file (`raw_write_mb_per_s`). `mb_per_cpu_s` divides by the CPU time the process used, which
/// other jobs on a shared machine disturb less than wall time.
enum SnapshotWorkloads {
    /// Runs workload `name` ("snapshot-write" or "snapshot-read") in `directory`; `quick` shrinks sizes.
    static func run(name: String, directory: String, quick: Bool) throws -> [BenchResult] {
        let bytes = quick ? 32 << 20 : 256 << 20
        var results: [BenchResult] = []
        for content in ["records", "random"] {
            let body = content == "records" ? recordBody(bytes) : randomBody(bytes)
            let path = directory + "/bench-\(content).msnap"
            try? FileManager.default.removeItem(atPath: path)
            defer { try? FileManager.default.removeItem(atPath: path) }
            switch name {
            case "snapshot-write":
                // Best of three rounds, compressed and uncompressed interleaved (the machine is shared and noisy).
                // Compression off on the same bytes shows what compression attempts cost.
                var best: BenchResult?
                var bestUncompressed = 0.0
                for _ in 0..<3 {
                    try? FileManager.default.removeItem(atPath: path)
                    let r = try write(body, to: path, content: content, workload: "snapshot-write")
                    if best.map({ r.seconds < $0.seconds }) ?? true { best = r }
                    try? FileManager.default.removeItem(atPath: path)
                    let u = try write(body, to: path, content: content, workload: "snapshot-write", compress: false)
                    bestUncompressed = max(bestUncompressed, u.extra[0].value)
                }
                guard var written = best else { continue }
                written.extra.append(("no_compression_mb_per_s", bestUncompressed))
                written.note += " (best of 3)"
                results.append(written)
            case "snapshot-read":
                _ = try write(body, to: path, content: content, workload: "snapshot-write")
                results.append(try read(path, expected: body, content: content))
            default:
                throw BenchFailure(description: "unknown snapshot workload \(name)")
            }
        }
        return results
    }

    private static let chunkBytes = 1 << 20

    private static func write(
        _ body: [UInt8], to path: String, content: String, workload: String, compress: Bool = true
    ) throws -> BenchResult {
        let meta = SnapshotMeta(stateMachineKind: "bench", lastIndex: 1, lastTerm: 1, createdAtNanos: 0)
        let start = DispatchTime.now()
        let cpuStart = cpuSeconds()
        let writer = try SnapshotWriter(
            path: path, meta: meta, options: SnapshotWriterOptions(chunkBytes: chunkBytes, syncOnFinish: false, compress: compress))
        try body.withUnsafeBytes { all in
            // Feed it as a state machine would: 64 KiB at a time.
            var offset = 0
            while offset < all.count {
                let n = min(64 << 10, all.count - offset)
                try writer.write(UnsafeRawBufferPointer(rebasing: all[offset..<offset + n]))
                offset += n
            }
        }
        let summary = try writer.finish()
        let seconds = elapsed(since: start)
        let cpu = cpuSeconds() - cpuStart
        let fsyncStart = DispatchTime.now()
        let handle = try FileHandle(forUpdating: URL(fileURLWithPath: path))
        try handle.synchronize()
        try handle.close()
        let fsyncSeconds = elapsed(since: fsyncStart)
        let rawWrite = try plainWrite(body, path: path + ".raw")
        var result = BenchResult(
            workload: workload, entries: body.count / chunkBytes, entryBytes: chunkBytes, batch: 1, seconds: seconds,
            note: "\(content): \(summary.chunkCount) chunks, stored/raw \(ratio(summary.fileBytes, summary.rawBytes))")
        result.extra = [
            ("mb_per_s", Double(body.count) / 1e6 / seconds), ("mb_per_cpu_s", Double(body.count) / 1e6 / cpu),
            ("stored_ratio", Double(summary.fileBytes) / Double(summary.rawBytes)),
            ("fsync_s", fsyncSeconds), ("raw_write_mb_per_s", Double(body.count) / 1e6 / rawWrite),
        ]
        return result
    }

    private static func read(_ path: String, expected: [UInt8], content: String) throws -> BenchResult {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var seconds = Double.infinity
        var cpu = Double.infinity
        var total = 0
        var sample: UInt64 = 0
        var opened: SnapshotReader?
        for _ in 0..<3 {  // best of three (shared, noisy machine)
            let start = DispatchTime.now()
            let cpuStart = cpuSeconds()
            let reader = try SnapshotReader(path: path)
            total = 0
            while true {
                let n = try reader.read(into: buffer)
                if n == 0 { break }
                sample &+= UInt64(buffer[n - 1])
                total += n
            }
            seconds = min(seconds, elapsed(since: start))
            cpu = min(cpu, cpuSeconds() - cpuStart)
            opened = reader
        }
        guard let reader = opened else { throw BenchFailure(description: "snapshot-read: no round ran") }
        let verifyStart = DispatchTime.now()
        try reader.verify()
        let verifySeconds = elapsed(since: verifyStart)
        guard total == expected.count, try reader.readChunk(reader.layout.chunks.count / 2) == Array(
            expected[(reader.layout.chunks.count / 2) * chunkBytes..<min(expected.count, (reader.layout.chunks.count / 2 + 1) * chunkBytes)])
        else {
            throw BenchFailure(description: "snapshot-read: read \(total) bytes, expected \(expected.count) (sample \(sample))")
        }
        var result = BenchResult(
            workload: "snapshot-read", entries: total / chunkBytes, entryBytes: chunkBytes, batch: 1, seconds: seconds,
            note: "\(content): sequential read, every chunk hash checked (best of 3)")
        result.extra = [
            ("mb_per_s", Double(total) / 1e6 / seconds), ("mb_per_cpu_s", Double(total) / 1e6 / cpu),
            ("verify_mb_per_s", Double(reader.layout.fileSize) / 1e6 / verifySeconds),
        ]
        return result
    }

    /// Seconds to write `body` to a new file with plain 1 MiB writes (no framing, no fsync), then remove it.
    private static func plainWrite(_ body: [UInt8], path: String) throws -> Double {
        try? FileManager.default.removeItem(atPath: path)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let start = DispatchTime.now()
        guard let file = fopen(path, "w") else { throw BenchFailure(description: "cannot create \(path)") }
        setvbuf(file, nil, _IONBF, 0)
        body.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let n = min(1 << 20, all.count - offset)
                offset += fwrite(all.baseAddress! + offset, 1, n, file)
            }
        }
        fclose(file)
        return elapsed(since: start)
    }

    /// Protobuf-style records as a metadata store holds them: databases, retention policies, shard groups with
    /// increasing ids and timestamps, owners. Compresses about like real meta.db content.
    static func recordBody(_ count: Int) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count + 256)
        var i: UInt64 = 0
        func varint(_ value: UInt64) {
            var v = value
            while v >= 0x80 {
                out.append(UInt8(v & 0x7F) | 0x80)
                v >>= 7
            }
            out.append(UInt8(v))
        }
        func string(_ tag: UInt8, _ s: String) {
            out.append(tag)
            varint(UInt64(s.utf8.count))
            out.append(contentsOf: s.utf8)
        }
        while out.count < count {
            string(0x0A, "telegraf-\(i % 97)")
            string(0x12, i % 3 == 0 ? "autogen" : "rp-\(i % 5)-days")
            out.append(0x18)
            varint(i)  // shard group id
            out.append(0x20)
            varint(1_600_000_000_000_000_000 + i * 3_600_000_000_000)  // start time, ns
            out.append(0x28)
            varint(604_800_000_000_000)  // duration
            string(0x32, "node-\(i % 3)")
            out.append(0x38)
            varint(i &* 2_654_435_761 % 1000)  // a little entropy
            i += 1
        }
        return Array(out[..<count])
    }

    static func randomBody(_ count: Int) -> [UInt8] {
        var state: UInt64 = 0x5EED
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { raw in
            let words = raw.bindMemory(to: UInt64.self)
            for k in words.indices {
                state &+= 0x9E37_79B9_7F4A_7C15
                var z = state
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                words[k] = z ^ (z >> 31)
            }
        }
        return out
    }

    private static func ratio(_ a: UInt64, _ b: UInt64) -> String {
        String(format: "%.3f", b == 0 ? 0 : Double(a) / Double(b))
    }

    /// CPU seconds this process has used (user + system), so figures stay meaningful on a shared machine.
    private static func cpuSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    private static func elapsed(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}
