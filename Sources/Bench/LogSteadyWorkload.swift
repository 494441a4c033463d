import MetaLog

/// append-sync-batch-steady: append-sync-batch on a log in its steady state, where earlier segments were
/// dropped by removePrefix (after a snapshot) before the timed appends, measured three times: new segments
/// in new files (`recycleSegments` 0, the `-fresh` row), in the dropped segments' files (the default, 2),
/// and in those files after a restart (`-restarted`: the log is closed and opened again before the clock
/// starts, so its spares are the ones opening kept). The segment size is set so that the timed entries
/// fill two segments: the two spare files with recycling, two new files without. Untimed: the log is
/// filled to two sealed segments and an active one, then removePrefix drops them all. Timed: N entries in
/// calls of B (syncEveryAppend) and close.
enum LogSteadyWorkload {
    static func run(directory: String, params p: LogParams, options: BenchOptions) throws -> [BenchResult] {
        guard p.entries > 0, p.batch > 0 else { throw BenchFailure(description: "entries and batch must be positive") }
        let frame = (p.entryBytes + 32 + 7) / 8 * 8
        let segmentBytes = min(64 << 20, max(1 << 20, p.entries * frame / 2 + 4096))
        var rows: [BenchResult] = []
        for (recycle, restart) in [(0, false), (2, false), (2, true)] {
            try BenchDirectory.clear(directory)
            var o = LogOptions(segmentBytes: segmentBytes, durability: .syncEveryAppend)
            o.recycleSegments = recycle
            var log = try Log(directory: directory, options: o)
            var batch = EntryBatch(reservingBytes: max(p.batch, 1024) * (p.entryBytes + 64))
            var next: UInt64 = 1
            func append(_ count: Int) throws -> ClosedRange<UInt64> {
                batch.removeAll(keepingCapacity: true)
                for index in next..<(next + UInt64(count)) {
                    batch.append(term: 1, kind: 0, payloadCount: p.entryBytes) { StandardPayload.fill(index: index, into: $0) }
                }
                let range = try log.append(batch)
                next += UInt64(count)
                return range
            }
            while log.segmentCount < 3 { _ = try append(1024) }
            try log.removePrefix(through: log.lastIndex)
            if restart {
                try log.close()
                log = try Log(directory: directory, options: o)
            }
            let first = next
            var latency = LatencyRecorder()
            let start = BenchClock.nanos()
            while next < first + UInt64(p.entries) {
                let count = min(p.batch, Int(first + UInt64(p.entries) - next))
                let t0 = BenchClock.nanos()
                _ = try append(count)
                latency.record(nanos: BenchClock.nanos() &- t0)
            }
            try log.close()
            let seconds = BenchClock.seconds(since: start)
            let check = try Log(directory: directory, options: LogOptions(segmentBytes: segmentBytes))
            guard check.firstIndex == first, check.lastIndex == next - 1,
                  try check.entry(at: next - 1).payload == StandardPayload.make(index: next - 1, size: p.entryBytes) else {
                throw BenchFailure(description: "append-sync-batch-steady: log holds \(check.firstIndex)...\(check.lastIndex)")
            }
            try check.close()
            rows.append(BenchResult(
                workload: recycle == 0 ? "append-sync-batch-steady-fresh"
                    : restart ? "append-sync-batch-steady-restarted" : "append-sync-batch-steady",
                entries: p.entries, entryBytes: p.entryBytes, batch: p.batch, seconds: seconds,
                note: (recycle == 0 ? "segments in new files (recycleSegments 0)"
                    : restart ? "segments in the files removePrefix dropped, kept by a close and an open (recycleSegments 2)"
                    : "segments in the files removePrefix dropped (recycleSegments 2)")
                    + "; \(segmentBytes >> 10) KiB segments, syncEveryAppend, after removePrefix of 3 segments",
                extra: latency.extras))
        }
        BenchDirectory.remove(directory)
        return rows
    }
}
