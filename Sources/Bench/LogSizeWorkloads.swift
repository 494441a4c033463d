import Foundation
import MetaLog

/// `open` and `memory`: how opening and the in-memory index scale with the size of the log.
enum LogSizeWorkloads {
    static let entryBytes = 128

    /// Time to open a log of 1 GiB of 128-byte payloads (128 MiB with `quick`) written in 64 MiB segments,
    /// and the same entries in 1 MiB segments. Each log is written untimed (reused when its directory's
    /// marker matches), then opened three times; the median open (recovery included, close excluded) is
    /// reported. Warm page cache.
    static func open(directory: String, quick: Bool, options: BenchOptions) throws -> [BenchResult] {
        let payloadBytes = (quick ? 128 : 1024) << 20
        let entries = payloadBytes / entryBytes
        var results: [BenchResult] = []
        for segmentMiB in [64, 1] {
            let dir = directory + "/open-\(segmentMiB)MiB"
            let logOptions = LogOptions(segmentBytes: segmentMiB << 20, durability: .manual)
            if !BenchDirectory.isReady(dir, entries: entries, entryBytes: entryBytes) {
                try BenchDirectory.clear(dir)
                try write(directory: dir, entries: entries, options: logOptions,
                          label: "open: writing \(entries) entries in \(segmentMiB) MiB segments (untimed)",
                          progress: options.progress)
                try BenchDirectory.markReady(dir, entries: entries, entryBytes: entryBytes)
            }
            var times: [Double] = []
            var segments = 0
            for _ in 0..<3 {
                let start = BenchClock.nanos()
                let log = try Log(directory: dir, options: logOptions)
                let last = log.lastIndex
                times.append(BenchClock.seconds(since: start))
                segments = log.segmentCount
                try log.close()
                guard last == UInt64(entries) else {
                    throw BenchFailure(description: "open: log in \(dir) ends at \(last), expected \(entries)")
                }
            }
            times.sort()
            let median = times[1]
            results.append(BenchResult(
                workload: "open", entries: entries, entryBytes: entryBytes, batch: 1, seconds: median,
                note: "median of 3 opens of \(payloadBytes >> 20) MiB of payload; ops/s = entries opened per second",
                extra: [("open_ms", median * 1000), ("segments", Double(segments)),
                        ("disk_mib", Double(BenchDirectory.bytesUsed(dir)) / 1_048_576)],
                variant: "\(segmentMiB) MiB segments"))
        }
        return results
    }

    /// Anonymous resident memory (RSS minus file-backed pages, from /proc/self/statm) that the index adds,
    /// per million entries: while appending 1 M entries (200 k with `quick`) into one active segment, after
    /// reopening that log, and after reopening the same entries stored in 64 MiB segments (sealed footers).
    static func memory(directory: String, quick: Bool, options: BenchOptions) throws -> [BenchResult] {
        let entries = quick ? 200_000 : 1_000_000
        let perMillion = 1_000_000 / Double(entries)
        var results: [BenchResult] = []
        let single = directory + "/memory-active"
        let singleOptions = LogOptions(segmentBytes: 512 << 20, durability: .manual)
        try BenchDirectory.clear(single)
        if options.progress { Progress.write("  running memory (\(entries) entries)\n") }

        // 1. Appending: the active segment's index grows with every entry.
        let log = try Log(directory: single, options: singleOptions)
        var batch = EntryBatch(reservingBytes: 256 * (entryBytes + 64))
        let appendStart = BenchClock.nanos()
        let before = anonymousBytes()
        try appendAll(to: log, entries: entries, batch: &batch)
        let grown = anonymousBytes() - before
        let appendSeconds = BenchClock.seconds(since: appendStart)
        let segmentsActive = log.segmentCount
        try log.sync()
        try log.close()
        results.append(result(variant: "active segment, appending", entries: entries, seconds: appendSeconds,
                              bytes: grown, perMillion: perMillion, segments: segmentsActive))

        // 2. Reopen of the same log: the index is rebuilt by scanning the active segment.
        for (variant, dir, logOptions) in [("active segment, reopened", single, singleOptions),
                                           ("64 MiB segments, reopened", directory + "/memory-sealed",
                                            LogOptions(segmentBytes: 64 << 20, durability: .manual))] {
            if dir != single {
                try BenchDirectory.clear(dir)
                try write(directory: dir, entries: entries, options: logOptions, label: nil, progress: false)
            }
            let base = anonymousBytes()
            let start = BenchClock.nanos()
            let reopened = try Log(directory: dir, options: logOptions)
            let seconds = BenchClock.seconds(since: start)
            let bytes = anonymousBytes() - base
            let segments = reopened.segmentCount
            guard reopened.lastIndex == UInt64(entries) else {
                throw BenchFailure(description: "memory: reopened log ends at \(reopened.lastIndex), expected \(entries)")
            }
            try reopened.close()
            results.append(result(variant: variant, entries: entries, seconds: seconds, bytes: bytes,
                                  perMillion: perMillion, segments: segments))
            BenchDirectory.remove(dir)
        }
        return results
    }

    static func result(variant: String, entries: Int, seconds: Double, bytes: Int, perMillion: Double,
                       segments: Int) -> BenchResult {
        BenchResult(
            workload: "memory", entries: entries, entryBytes: entryBytes, batch: 1, seconds: seconds,
            note: "anonymous RSS growth (statm resident - shared); ops/s = entries appended or opened per second",
            extra: [("bytes_per_million_entries", Double(bytes) * perMillion),
                    ("bytes_per_entry", Double(bytes) / Double(entries)), ("segments", Double(segments))],
            variant: variant)
    }

    /// Writes `entries` standard 128-byte payloads in batches of 256, syncs and closes.
    static func write(directory: String, entries: Int, options logOptions: LogOptions, label: String?,
                      progress: Bool) throws {
        if let label, progress { Progress.write("  \(label)\n") }
        let log = try Log(directory: directory, options: logOptions)
        var batch = EntryBatch(reservingBytes: 256 * (entryBytes + 64))
        try appendAll(to: log, entries: entries, batch: &batch)
        try log.sync()
        try log.close()
    }

    static func appendAll(to log: Log, entries: Int, batch: inout EntryBatch) throws {
        var next: UInt64 = 1
        let n = UInt64(entries)
        while next <= n {
            let last = min(n, next + 255)
            batch.removeAll(keepingCapacity: true)
            for index in next...last {
                batch.append(term: LogWorkloads.term, kind: 0, payloadCount: entryBytes) {
                    StandardPayload.fill(index: index, into: $0)
                }
            }
            try log.append(batch)
            next = last + 1
        }
    }

    /// Resident anonymous bytes of this process: (resident - shared) pages of /proc/self/statm, after
    /// `malloc_trim(0)` so that memory freed by earlier work does not hide (or fake) growth.
    static func anonymousBytes() -> Int {
        _ = mallocTrim(0)
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ").compactMap { Int($0) }
        guard fields.count >= 3 else { return 0 }
        return (fields[1] - fields[2]) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// glibc's malloc_trim (not exported by the Glibc module): returns free heap pages to the kernel.
@_silgen_name("malloc_trim")
func mallocTrim(_ pad: Int) -> Int32
