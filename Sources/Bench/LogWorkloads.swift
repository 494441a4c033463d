import MetaLog

/// Sizes of one log workload, with the peers' meaning: N entries of S payload bytes, B entries per
/// append call, R random reads.
struct LogParams {
    var entries: Int
    var entryBytes: Int
    var batch: Int
    var reads: Int
}

/// The six workloads shared with ../shared/peers, on MetaLog, with the peers' timed regions:
/// append = open .. close (final sync included, payload generation included); replay = open + read all
/// in index order + verify + close; random-read = reads + verify (open not timed).
enum LogWorkloads {
    /// Term written with every entry (the peers write term 1 too).
    static let term: UInt64 = 1

    /// append-batch, append-sync, append-sync-batch, append-large: empties `directory`, appends N entries
    /// in calls of B, writes the marker. Sync workloads use `.syncEveryAppend` (one fdatasync per call) and
    /// record each call's latency; the others use `.manual` and one `sync()` before `close()`.
    /// append-sync-hardstate (`withHardState`): each call is `append(_:at:hardState:)` with a new hard
    /// state (commit = the index before the batch), entries and hard state durable with one fdatasync.
    static func append(workload: String, directory: String, params p: LogParams, syncEachCall: Bool,
                       withHardState: Bool = false, options: BenchOptions) throws -> BenchResult {
        try BenchDirectory.clear(directory)
        var latency = LatencyRecorder()
        var progress = Progress(label: workload, total: p.entries, enabled: options.progress)
        let run = try timedAppend(directory: directory, params: p, syncEachCall: syncEachCall,
                                  withHardState: withHardState, latency: &latency, progress: &progress)
        progress.finish()
        try BenchDirectory.markReady(directory, entries: p.entries, entryBytes: p.entryBytes)
        var extra = latency.extras
        if options.countMallocs { extra.append(("mallocs_per_entry", run.mallocsPerEntry)) }
        let note = withHardState
            ? "one append(_:at:hardState:) call per batch with a new hard state, syncEveryAppend (one fdatasync per call)"
            : syncEachCall
            ? "one append call per batch, durability syncEveryAppend (fdatasync per call)"
            : "one append call per batch, durability manual, one sync() before close"
        return BenchResult(workload: workload, entries: p.entries, entryBytes: p.entryBytes, batch: p.batch,
                           seconds: run.seconds, note: note, extra: extra)
    }

    /// Seconds of open .. close and the mallocs per entry counted around the append calls.
    struct AppendRun {
        var seconds: Double
        var mallocsPerEntry: Double
    }

    /// The timed region of the append workloads (also used untimed to create the replay log). Each
    /// append call's latency goes to `latency` when `syncEachCall`.
    static func timedAppend(directory: String, params p: LogParams, syncEachCall: Bool, withHardState: Bool = false,
                            latency: inout LatencyRecorder, progress: inout Progress) throws -> AppendRun {
        guard p.entries > 0, p.entryBytes >= 0, p.batch > 0 else {
            throw BenchFailure(description: "entries and batch must be positive")
        }
        let n = UInt64(p.entries)
        let size = p.entryBytes
        var batch = EntryBatch(reservingBytes: p.batch * (size + 64))
        let start = BenchClock.nanos()
        let log = try Log(directory: directory,
                          options: LogOptions(durability: syncEachCall ? .syncEveryAppend : .manual))
        let mallocsBefore = MallocCounter.count
        var next: UInt64 = 1
        while next <= n {
            let last = min(n, next + UInt64(p.batch) - 1)
            batch.removeAll(keepingCapacity: true)
            for index in next...last {
                batch.append(term: term, kind: 0, payloadCount: size) { buffer in
                    StandardPayload.fill(index: index, into: buffer)
                }
            }
            let callStart = BenchClock.nanos()
            let range = withHardState
                ? try log.append(batch, at: next, hardState: HardState(term: term, vote: 1, commit: next - 1))
                : try log.append(batch)
            if syncEachCall { latency.record(nanos: BenchClock.nanos() &- callStart) }
            guard range.lowerBound == next, range.upperBound == last else {
                throw BenchFailure(description: "append returned indexes \(range), expected \(next)...\(last)")
            }
            next = last + 1
            progress.tick(Int(last))
        }
        let mallocs = MallocCounter.count &- mallocsBefore
        if !syncEachCall { try log.sync() }
        try log.close()
        return AppendRun(seconds: BenchClock.seconds(since: start),
                         mallocsPerEntry: Double(mallocs) / Double(p.entries))
    }

    /// Makes sure `directory` holds the N-entry log of S-byte payloads: reuses it when the marker matches,
    /// otherwise empties it and writes the log as append-batch would, untimed.
    static func ensureLog(directory: String, params p: LogParams, options: BenchOptions) throws {
        if BenchDirectory.isReady(directory, entries: p.entries, entryBytes: p.entryBytes) { return }
        try BenchDirectory.clear(directory)
        if options.progress { Progress.write("  creating a \(p.entries)-entry log (untimed)\n") }
        var progress = Progress(label: "create log", total: p.entries, enabled: false)
        var latency = LatencyRecorder()
        _ = try timedAppend(directory: directory, params: p, syncEachCall: false, latency: &latency,
                            progress: &progress)
        try BenchDirectory.markReady(directory, entries: p.entries, entryBytes: p.entryBytes)
    }

    /// replay: open (recovery) + every entry in index order + verify index, term and payload + close, twice:
    /// first through `read(from:maxBytes:)` in ~1 MiB batches (a copy, as the engine's apply loop and a
    /// replication sender read), then through the zero-copy `forEachEntry` (as recovery reads). The
    /// zero-copy row comes last: it is the one `compare` reads, the workload's "read all in index order".
    static func replay(directory: String, params p: LogParams, options: BenchOptions) throws -> [BenchResult] {
        try ensureLog(directory: directory, params: p, options: options)
        return [try replayBatches(directory: directory, params: p, options: options),
                try replayInPlace(directory: directory, params: p, options: options)]
    }

    static func replayBatches(directory: String, params p: LogParams, options: BenchOptions) throws -> BenchResult {
        try timedReplay(directory: directory, params: p, options: options, variant: "read(from:) batches",
                        note: "open + read(from:maxBytes: 1 MiB) in index order + verify; warm page cache") { log, progress in
            let n = UInt64(p.entries)
            var next: UInt64 = 1
            while next <= n {
                let batch = try log.read(from: next, maxBytes: 1 << 20)
                guard batch.count > 0, batch.firstIndex == next else {
                    throw BenchFailure(description: "read(from: \(next)) returned \(batch.count) entries from \(batch.firstIndex)")
                }
                for position in 0..<batch.count {
                    let index = next + UInt64(position)
                    let header = batch.header(at: position)
                    guard header.index == index, header.term == term else {
                        throw BenchFailure(description: "entry \(index): header says index \(header.index) term \(header.term)")
                    }
                    let ok = batch.withPayload(at: position) { verify($0, index: index, size: p.entryBytes) }
                    guard ok else { throw mismatch(index) }
                }
                next += UInt64(batch.count)
                progress.tick(Int(next - 1))
            }
        }
    }

    static func replayInPlace(directory: String, params p: LogParams, options: BenchOptions) throws -> BenchResult {
        try timedReplay(directory: directory, params: p, options: options, variant: "",
                        note: "open + forEachEntry (zero-copy, CRC checked) in index order + verify + close; warm page cache") { log, progress in
            let n = UInt64(p.entries)
            let size = p.entryBytes
            var expected: UInt64 = 1
            var failure: BenchFailure?
            let end = try log.forEachEntry(from: 1) { header, payload in
                guard header.index == expected, header.term == term else {
                    failure = BenchFailure(description: "entry \(expected): header says index \(header.index) term \(header.term)")
                    return false
                }
                guard verify(payload, index: expected, size: size) else { failure = mismatch(expected); return false }
                expected += 1
                if expected & 65535 == 0 { progress.tick(Int(expected)) }
                return true
            }
            if let failure { throw failure }
            guard end == n + 1 else { throw BenchFailure(description: "forEachEntry stopped at \(end), expected \(n + 1)") }
        }
    }

    /// One timed replay row: open (recovery), check that the log holds exactly 1...N, `read` every entry, close.
    static func timedReplay(directory: String, params p: LogParams, options: BenchOptions, variant: String, note: String,
                            _ read: (Log, inout Progress) throws -> Void) throws -> BenchResult {
        var progress = Progress(label: variant.isEmpty ? "replay" : "replay (\(variant))", total: p.entries,
                                enabled: options.progress)
        let n = UInt64(p.entries)
        let start = BenchClock.nanos()
        let log = try Log(directory: directory, options: LogOptions(durability: .manual))
        guard log.firstIndex == 1, log.lastIndex == n else {
            throw BenchFailure(description: "log holds \(log.firstIndex)...\(log.lastIndex), expected 1...\(n)")
        }
        let mallocsBefore = MallocCounter.count
        try read(log, &progress)
        let mallocs = MallocCounter.count &- mallocsBefore
        try log.close()
        let seconds = BenchClock.seconds(since: start)
        progress.finish()
        return BenchResult(workload: "replay", entries: p.entries, entryBytes: p.entryBytes, batch: p.batch,
                           seconds: seconds, note: note,
                           extra: options.countMallocs ? [("mallocs_per_entry", Double(mallocs) / Double(p.entries))] : [],
                           variant: variant)
    }

    /// random-read: R reads through `withEntry(at:)` at `1 + r % N`, r from splitmix64 seeded with 42,
    /// each verified; open is not timed.
    static func randomRead(directory: String, params p: LogParams, options: BenchOptions) throws -> BenchResult {
        try ensureLog(directory: directory, params: p, options: options)
        let log = try Log(directory: directory, options: LogOptions(durability: .manual))
        let n = UInt64(p.entries)
        guard log.lastIndex == n else {
            throw BenchFailure(description: "log ends at \(log.lastIndex), expected \(n)")
        }
        var progress = Progress(label: "random-read", total: p.reads, enabled: options.progress)
        var rng = SplitMix64(state: 42)
        let size = p.entryBytes
        let mallocsBefore = MallocCounter.count
        let start = BenchClock.nanos()
        for k in 0..<p.reads {
            let index = 1 + rng.next() % n
            let ok = try log.withEntry(at: index) { header, payload in
                header.index == index && header.term == term && verify(payload, index: index, size: size)
            }
            guard ok else { throw mismatch(index) }
            if k & 4095 == 0 { progress.tick(k) }
        }
        let seconds = BenchClock.seconds(since: start)
        let mallocs = MallocCounter.count &- mallocsBefore
        progress.finish()
        try log.close()
        var extra: [(name: String, value: Double)] = []
        if options.countMallocs { extra.append(("mallocs_per_read", Double(mallocs) / Double(p.reads))) }
        return BenchResult(workload: "random-read", entries: p.reads, entryBytes: p.entryBytes, batch: 1,
                           seconds: seconds, note: "withEntry(at:) + verify; open not timed; warm page cache",
                           extra: extra)
    }

    /// Whether `payload` is exactly entry `index`'s standard payload of `size` bytes.
    @inline(__always)
    static func verify(_ payload: UnsafeRawBufferPointer, index: UInt64, size: Int) -> Bool {
        payload.count == size && StandardPayload.matches(index: index, bytes: payload)
    }

    static func mismatch(_ index: UInt64) -> BenchFailure {
        BenchFailure(description: "entry \(index): payload mismatch (length or bytes differ from the standard payload)")
    }
}

