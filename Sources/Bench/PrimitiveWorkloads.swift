import CCRC32C
import CLZ4
import Glibc
import MetaLog

/// `crc32c` and `lz4`: the primitives under the log and snapshot formats, measured on in-memory buffers.
enum PrimitiveWorkloads {
    /// CRC32C over a 64 MiB buffer (16 MiB with `quick`) through `MetaLog.CRC32C` (hardware path when the
    /// CPU has one), repeated for at least 0.5 s; also the portable table path. GB/s are 10^9 bytes/s.
    static func crc32c(quick: Bool, options: BenchOptions) throws -> [BenchResult] {
        let bytes = (quick ? 16 : 64) << 20
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes, alignment: 64)
        defer { buffer.deallocate() }
        fillRandom(buffer, seed: 7)
        let data = UnsafeRawBufferPointer(buffer)
        if options.progress { Progress.write("  running crc32c (\(bytes >> 20) MiB buffer)\n") }
        let minimum = quick ? 0.1 : 0.5
        let (hwPasses, hwSeconds, hwCRC) = repeatTimed(minimumSeconds: minimum) { CRC32C.extend(0, data) }
        let (swPasses, swSeconds, swCRC) = repeatTimed(minimumSeconds: minimum) {
            crc32c_extend_portable(0, data.baseAddress, data.count)
        }
        guard hwCRC == swCRC else {
            throw BenchFailure(description: "crc32c: hardware path gives \(hwCRC), portable path \(swCRC)")
        }
        let hwGBs = Double(hwPasses * bytes) / hwSeconds / 1e9
        let swGBs = Double(swPasses * bytes) / swSeconds / 1e9
        let accelerated = CRC32C.isHardwareAccelerated
        return [
            BenchResult(workload: "crc32c", entries: hwPasses, entryBytes: bytes, batch: 1, seconds: hwSeconds,
                        note: accelerated ? "MetaLog.CRC32C, hardware instruction path" : "MetaLog.CRC32C (no hardware path on this CPU)",
                        extra: [("gb_per_s", hwGBs), ("portable_gb_per_s", swGBs), ("hardware", accelerated ? 1 : 0)]),
            BenchResult(workload: "crc32c", entries: swPasses, entryBytes: bytes, batch: 1, seconds: swSeconds,
                        note: "crc32c_extend_portable (slicing table)", extra: [("gb_per_s", swGBs)], variant: "portable"),
        ]
    }

    /// LZ4 (liblz4 default level) compress and decompress of 64 KiB chunks over 64 MiB (16 MiB with
    /// `quick`) of metadata-like text and of random bytes; every chunk round-trips and is compared.
    /// MB/s are 10^6 bytes/s of uncompressed data.
    static func lz4(quick: Bool, options: BenchOptions) throws -> [BenchResult] {
        let total = (quick ? 16 : 64) << 20
        let chunk = 64 << 10
        let chunks = total / chunk
        let source = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 64)
        defer { source.deallocate() }
        let bound = Int(LZ4_compressBound(Int32(chunk)))
        let compressed = UnsafeMutableRawBufferPointer.allocate(byteCount: bound * chunks, alignment: 64)
        defer { compressed.deallocate() }
        let restored = UnsafeMutableRawBufferPointer.allocate(byteCount: total, alignment: 64)
        defer { restored.deallocate() }
        var sizes = [Int](repeating: 0, count: chunks)
        var results: [BenchResult] = []
        for kind in ["metadata-like", "random"] {
            if options.progress { Progress.write("  running lz4 (\(kind), \(total >> 20) MiB)\n") }
            if kind == "random" { fillRandom(source, seed: 11) } else { fillMetadataLike(source) }
            let src = source.baseAddress!.assumingMemoryBound(to: CChar.self)
            let dst = compressed.baseAddress!.assumingMemoryBound(to: CChar.self)
            let out = restored.baseAddress!.assumingMemoryBound(to: CChar.self)
            var start = BenchClock.nanos()
            for i in 0..<chunks {
                let n = LZ4_compress_default(src + i * chunk, dst + i * bound, Int32(chunk), Int32(bound))
                guard n > 0 else { throw BenchFailure(description: "lz4: compressing chunk \(i) failed") }
                sizes[i] = Int(n)
            }
            let compressSeconds = BenchClock.seconds(since: start)
            start = BenchClock.nanos()
            for i in 0..<chunks {
                let n = LZ4_decompress_safe(dst + i * bound, out + i * chunk, Int32(sizes[i]), Int32(chunk))
                guard n == Int32(chunk) else {
                    throw BenchFailure(description: "lz4: chunk \(i) decompressed to \(n) bytes, expected \(chunk)")
                }
            }
            let decompressSeconds = BenchClock.seconds(since: start)
            guard memcmp(source.baseAddress!, restored.baseAddress!, total) == 0 else {
                throw BenchFailure(description: "lz4: \(kind) data did not round-trip")
            }
            let ratio = Double(total) / Double(sizes.reduce(0, +))
            results.append(BenchResult(
                workload: "lz4", entries: chunks, entryBytes: chunk, batch: 1, seconds: compressSeconds,
                note: "liblz4 LZ4_compress_default / LZ4_decompress_safe, 64 KiB chunks; ops/s = chunks compressed",
                extra: [("compress_mb_per_s", Double(total) / compressSeconds / 1e6),
                        ("decompress_mb_per_s", Double(total) / decompressSeconds / 1e6), ("ratio", ratio)],
                variant: kind))
        }
        return results
    }

    /// Runs `body` until at least `minimumSeconds` have passed (at least twice); returns passes, seconds
    /// and the last result (kept so the work is not optimized away).
    static func repeatTimed<R>(minimumSeconds: Double, _ body: () -> R) -> (Int, Double, R) {
        var passes = 0
        let start = BenchClock.nanos()
        var last = body()
        passes += 1
        while passes < 2 || BenchClock.seconds(since: start) < minimumSeconds {
            last = body()
            passes += 1
        }
        return (passes, BenchClock.seconds(since: start), last)
    }

    /// Incompressible bytes (splitmix64).
    static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer, seed: UInt64) {
        var rng = SplitMix64(state: seed)
        var offset = 0
        while offset + 8 <= buffer.count {
            buffer.storeBytes(of: rng.next(), toByteOffset: offset, as: UInt64.self)
            offset += 8
        }
        while offset < buffer.count {
            buffer[offset] = UInt8(truncatingIfNeeded: rng.next())
            offset += 1
        }
    }

    /// Text shaped like a metadata store's contents: databases, retention policies, shard groups with
    /// owners and time ranges, users; names repeat, numbers vary.
    static func fillMetadataLike(_ buffer: UnsafeMutableRawBufferPointer) {
        var rng = SplitMix64(state: 3)
        let dbs = ["telegraf", "metrics", "_internal", "app_events", "k8s_cluster", "billing"]
        let rps = ["autogen", "one_week", "thirty_days", "forever"]
        var offset = 0
        var shard = 1
        while offset < buffer.count {
            let r = rng.next()
            let db = dbs[Int(r % UInt64(dbs.count))]
            let rp = rps[Int((r >> 8) % UInt64(rps.count))]
            let start = 1_700_000_000 + Int((r >> 16) % 5_000_000) * 3600
            shard += 1
            let line = "{\"database\":\"\(db)\",\"retentionPolicy\":\"\(rp)\",\"shardGroup\":{\"id\":\(shard),"
                + "\"startTime\":\(start)000000000,\"endTime\":\(start + 604_800)000000000,"
                + "\"shards\":[{\"id\":\(shard * 3),\"owners\":[\(r % 5 + 1),\((r >> 3) % 5 + 1)]}]},"
                + "\"user\":\"svc-\(db)-\((r >> 24) % 40)\",\"privilege\":\"\((r >> 30) % 2 == 0 ? "READ" : "ALL")\"}\n"
            var text = line
            text.withUTF8 { utf8 in
                let n = min(utf8.count, buffer.count - offset)
                (buffer.baseAddress! + offset).copyMemory(from: utf8.baseAddress!, byteCount: n)
                offset += n
            }
        }
    }
}
