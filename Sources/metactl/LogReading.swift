import Foundation
import MetaLog

/// Read access to a log directory for the inspecting subcommands (verify --payload, dump, stat), which
/// must never change the log they look at.
///
/// MetaLog's `Log` cuts a torn tail when it opens. So a log whose verify report shows no torn tail is
/// opened in place (opening then changes nothing); one with a torn tail is opened from a scratch copy that
/// is deleted afterwards (cost: one copy of the directory).
enum LogReading {
    /// Throws unless `directory` exists and is a directory (opening a `Log` would create it).
    static func requireDirectory(_ directory: String) throws {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue
        else { throw LogToolError.noDirectory(directory) }
    }

    /// Runs `body` with a `Log` holding exactly the entries of `directory` that opening would keep.
    static func withReadableLog<R>(
        _ directory: String, report: VerifyReport, _ body: (Log) throws -> R
    ) throws -> R {
        if report.tornTailOffset == nil {
            let log = try Log(directory: directory, options: LogOptions(durability: .manual))
            defer { try? log.close() }
            return try body(log)
        }
        let scratch = FileManager.default.temporaryDirectory
            .appendingPathComponent("metactl-log-\(getpid())-\(UInt64.random(in: 0 ... .max))").path
        do {
            try FileManager.default.copyItem(atPath: directory, toPath: scratch)
        } catch {
            throw LogToolError.copyFailed(directory: directory, reason: "\(error)")
        }
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let log = try Log(directory: scratch, options: LogOptions(durability: .manual))
        defer { try? log.close() }
        return try body(log)
    }

    /// Calls `body` for every entry from `first` on (at most `limit`), reading in bounded batches.
    /// `body` returns false to stop early.
    static func forEachEntry(
        _ log: Log, from first: UInt64, limit: Int = .max,
        _ body: (EntryHeader, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var next = first
        var left = limit
        let last = log.lastIndex
        while next <= last && left > 0 {
            let batch = try log.read(from: next, maxCount: min(left, 4096), maxBytes: 8 << 20)
            if batch.isEmpty { return }
            for position in 0..<batch.count {
                let header = batch.header(at: position)
                let keepGoing = try batch.withPayload(at: position) { try body(header, $0) }
                if !keepGoing { return }
            }
            next += UInt64(batch.count)
            left -= batch.count
        }
    }
}
