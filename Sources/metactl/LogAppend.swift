import ArgumentParser
import Foundation
import MetaLog

/// How `metactl log append` makes entries durable.
enum LogSyncMode: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// `Durability.syncEveryAppend`: one append per batch, each durable before the next.
    case always
    /// `Durability.groupCommit`: several threads append at once and share fdatasyncs.
    case group
    /// `Durability.manual`: append everything, then one `sync()`.
    case none
}

/// `metactl log append`: appends standard-payload entries and reports each durable point.
///
/// After every durable sync it prints `synced <lastIndex>` at once (write(2), no buffering), where every
/// index up to `<lastIndex>` is durable. Crash tests SIGKILL it and check that all of them come back.
struct LogAppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "append",
        abstract: "Append standard-payload entries (splitmix64 of the index, term 1) after the last index.",
        discussion: "Prints 'synced <lastIndex>' after each durable sync, flushed at once.")

    @Option(help: "The log directory (created if missing).")
    var dir: String

    @Option(help: "How many entries to append.")
    var count: Int

    @Option(name: .customLong("entry-bytes"), help: "Payload size of every entry.")
    var entryBytes: Int

    @Option(help: "Entries per append call.")
    var batch: Int = 1

    @Option(help: "always (sync every append), group (group commit, 4 threads) or none (one sync at the end).")
    var sync: LogSyncMode = .always

    @Option(
        name: .customLong("segment-bytes"),
        help: "Rotation size in bytes for segments created from now on (default 64 MiB).")
    var segmentBytes: Int?

    /// Largest payload `append` writes (a test tool's limit, far above any metadata entry).
    static let maxEntryBytes = 64 << 20
    /// Most entries in one batch.
    static let maxBatch = 1 << 20
    /// Largest payload total of one batch (bounds the batch buffer).
    static let maxBatchBytes = 1 << 30

    /// Segment sizes MetaLog accepts (4 KiB ... 2 GiB).
    static let segmentBytesRange = 4096...(1 << 31)

    /// Batch buffers start with at most this many bytes and grow when needed.
    static let reserveLimit = 16 << 20

    /// Threads appending at once in `--sync group`.
    static let groupThreads = 4

    func run() throws {
        try LogOutput.run("append") {
            guard count >= 0 else { throw LogOutput.usage("append", "--count must be >= 0, got \(count)") }
            guard (0...Self.maxEntryBytes).contains(entryBytes) else {
                throw LogOutput.usage(
                    "append", "--entry-bytes must be between 0 and \(Self.maxEntryBytes), got \(entryBytes)")
            }
            guard (1...Self.maxBatch).contains(batch) else {
                throw LogOutput.usage("append", "--batch must be between 1 and \(Self.maxBatch), got \(batch)")
            }
            guard batch <= Self.maxBatchBytes / max(entryBytes, 1) else {
                throw LogOutput.usage(
                    "append", "--batch \(batch) x --entry-bytes \(entryBytes) exceeds \(Self.maxBatchBytes) bytes per batch")
            }
            let segmentBytes = self.segmentBytes ?? LogOptions().segmentBytes
            // Checked here too: MetaLog's own check of this argument is not safe to reach (see
            // notes/logtools-needs.md), and the message can name the flag.
            guard Self.segmentBytesRange.contains(segmentBytes) else {
                throw LogOutput.usage(
                    "append", "--segment-bytes must be between \(Self.segmentBytesRange.lowerBound) and "
                        + "\(Self.segmentBytesRange.upperBound), got \(segmentBytes)")
            }
            let durability: Durability
            switch sync {
            case .always: durability = .syncEveryAppend
            case .group: durability = .groupCommit
            case .none: durability = .manual
            }
            let log = try Log(directory: dir, options: LogOptions(segmentBytes: segmentBytes, durability: durability))
            defer { try? log.close() }
            switch sync {
            case .always:
                try appendSequentially(log, printEachBatch: true)
            case .none:
                try appendSequentially(log, printEachBatch: false)
                try log.sync()
                LogOutput.line("synced \(log.lastIndex)")
            case .group:
                try appendConcurrently(log)
            }
            try log.close()
        }
    }

    /// One thread, one append per batch; prints after each when `printEachBatch`.
    private func appendSequentially(_ log: Log, printEachBatch: Bool) throws {
        var entries = EntryBatch(reservingBytes: min(batch * entryBytes, Self.reserveLimit))
        var remaining = count
        var next = log.lastIndex + 1
        while remaining > 0 {
            let n = min(remaining, batch)
            StandardBatch.fill(&entries, first: next, count: n, entryBytes: entryBytes)
            let range = try log.append(entries, at: next)
            if printEachBatch { LogOutput.line("synced \(range.upperBound)") }
            next = range.upperBound + 1
            remaining -= n
        }
    }

    /// `groupThreads` threads reserve index ranges in turn and append them concurrently with
    /// `append(_:at:)`, so the log's group commit shares fdatasyncs between them. `synced` reports the
    /// highest index below which every append has returned (so everything up to it is durable).
    private func appendConcurrently(_ log: Log) throws {
        let state = GroupAppendState(remaining: count, next: log.lastIndex + 1)
        let group = DispatchGroup()
        let batch = self.batch
        let entryBytes = self.entryBytes
        for _ in 0..<Self.groupThreads {
            group.enter()
            let thread = Thread {
                defer { group.leave() }
                var entries = EntryBatch(reservingBytes: min(batch * entryBytes, Self.reserveLimit))
                while let (first, n) = state.claim(upTo: batch) {
                    StandardBatch.fill(&entries, first: first, count: n, entryBytes: entryBytes)
                    while true {
                        do {
                            state.finished(try log.append(entries, at: first))
                            break
                        } catch let LogError.nonContiguous(expected, found) where expected < found {
                            // A thread that reserved an earlier range has not queued it yet: retry.
                            if state.error != nil { return }
                            sched_yield()
                        } catch {
                            state.fail(error)
                            return
                        }
                    }
                }
            }
            thread.start()
        }
        group.wait()
        if let error = state.error { throw error }
    }
}

/// Fills append batches with the standard payload.
enum StandardBatch {
    /// Replaces `batch`'s contents with `count` entries of term 1 whose payloads are the standard payloads
    /// of indexes `first...`, `entryBytes` each.
    static func fill(_ batch: inout EntryBatch, first: UInt64, count: Int, entryBytes: Int) {
        batch.removeAll(keepingCapacity: true)
        for i in 0..<count {
            batch.append(term: 1, kind: 0, payloadCount: entryBytes) { buffer in
                StandardPayload.fill(index: first + UInt64(i), into: buffer)
            }
        }
    }
}

/// Shared state of the group-commit appenders: entries left to reserve, the next index to hand out, and
/// the durable watermark.
final class GroupAppendState: @unchecked Sendable {
    private let lock = NSLock()
    private var remaining: Int
    private var next: UInt64
    private var watermark: UInt64
    /// Durable ranges above the watermark, lowerBound -> upperBound.
    private var done: [UInt64: UInt64] = [:]
    private var firstError: Error?

    /// `remaining` entries to append from index `next` on.
    init(remaining: Int, next: UInt64) {
        self.remaining = remaining
        self.next = next
        self.watermark = next - 1
    }

    /// The first failure of any appender, nil when all succeeded.
    var error: Error? {
        lock.lock()
        defer { lock.unlock() }
        return firstError
    }

    /// Reserves the next up to `limit` indexes; nil when nothing is left or an appender failed.
    func claim(upTo limit: Int) -> (first: UInt64, count: Int)? {
        lock.lock()
        defer { lock.unlock() }
        let n = min(limit, remaining)
        guard n > 0 else { return nil }
        remaining -= n
        let first = next
        next += UInt64(n)
        return (first, n)
    }

    /// Records that `range` is durable and prints `synced` when the contiguous durable prefix grows.
    func finished(_ range: ClosedRange<UInt64>) {
        lock.lock()
        defer { lock.unlock() }
        done[range.lowerBound] = range.upperBound
        let before = watermark
        while let upper = done.removeValue(forKey: watermark + 1) {
            watermark = upper
        }
        if watermark != before { LogOutput.line("synced \(watermark)") }
    }

    /// Records the first failure and stops every appender.
    func fail(_ error: Error) {
        lock.lock()
        defer { lock.unlock() }
        if firstError == nil { firstError = error }
        remaining = 0
    }
}
