import ArgumentParser
import Foundation
import MetaLog

/// Opening a log for a changing subcommand.
enum LogMaintenance {
    /// Opens the log in `directory` (which must exist) with MetaLog's default options, and says what
    /// opening did (a cut torn tail) on stdout.
    static func open(_ directory: String) throws -> Log {
        try LogReading.requireDirectory(directory)
        let log = try Log(directory: directory, options: LogOptions(durability: .syncEveryAppend))
        if let torn = log.recovery.tornTail {
            LogOutput.line("opening cut a torn tail: \(torn.file) offset \(torn.offset) (\(torn.bytesDropped) bytes)")
        }
        return log
    }

    /// Opens the log, checks that `index` (given as `flag`) lies in `firstIndex - 1 ... lastIndex`, runs
    /// `change` (given the log and its last index before) and prints the line it returns, then closes the
    /// log (closing is part of the command: its error is reported).
    static func change(
        _ directory: String, flag: String, index: UInt64, _ change: (Log, UInt64) throws -> String
    ) throws {
        let log = try open(directory)
        defer { try? log.close() }
        let first = log.firstIndex
        let last = log.lastIndex
        guard index <= last, first == 0 || index >= first - 1 else {
            throw LogToolError.indexOutOfRange(flag: flag, index: index, firstIndex: first, lastIndex: last)
        }
        LogOutput.line(try change(log, last))
        try log.close()
    }
}

/// `metactl log repair`: cuts the log at its first corruption, keeping a copy of what was cut.
struct LogRepairCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repair",
        abstract: "Cut the log at its first corruption; report what was dropped and where the copy is.")

    @Option(help: "The log directory.")
    var dir: String

    func run() throws {
        try LogOutput.run("repair") {
            try LogReading.requireDirectory(dir)
            let report = try LogInspector.repair(directory: dir)
            guard report.changed else {
                LogOutput.line("nothing to repair in \(dir)")
                return
            }
            if let cut = report.cutAt { LogOutput.line("cut at \(LogProblem(cut))") }
            if let first = report.droppedFirstIndex, let last = report.droppedLastIndex, last >= first {
                LogOutput.line("dropped \(first)...\(last) (\(last - first + 1) entries, \(report.droppedBytes) bytes)")
            } else {
                LogOutput.line("dropped no entries (\(report.droppedBytes) bytes)")
            }
            LogOutput.line("files \(report.files.joined(separator: " "))")
            LogOutput.line("copy \(report.backupDirectory ?? "none")")
        }
    }
}

/// `metactl log truncate`: drops every entry after an index (durable before it returns).
struct LogTruncateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "truncate", abstract: "Drop every entry after --after (durable before exiting).")

    @Option(help: "The log directory.")
    var dir: String

    @Option(help: "Keep entries up to this index, drop the rest.")
    var after: UInt64

    func run() throws {
        try LogOutput.run("truncate") {
            try LogMaintenance.change(dir, flag: "--after", index: after) { log, last in
                try log.truncate(after: after)
                return after == last
                    ? "nothing dropped; lastIndex \(log.lastIndex)"
                    : "dropped \(after + 1)...\(last) (\(last - after) entries); lastIndex \(log.lastIndex)"
            }
        }
    }
}

/// `metactl log compact`: drops every entry through an index (whole segments; the new first index is durable).
struct LogCompactCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compact",
        abstract: "Drop every entry through --through (whole segments are removed; the first index is kept durably).")

    @Option(help: "The log directory.")
    var dir: String

    @Option(help: "Drop entries up to and including this index.")
    var through: UInt64

    func run() throws {
        try LogOutput.run("compact") {
            try LogMaintenance.change(dir, flag: "--through", index: through) { log, _ in
                try log.removePrefix(through: through)
                return "firstIndex \(log.firstIndex) lastIndex \(log.lastIndex)"
            }
        }
    }
}
