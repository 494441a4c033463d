import ArgumentParser
import Foundation
import MetaLog

/// How segments are shown by `metactl log stat` and `metactl log verify --json`.
enum LogSegmentText {
    /// `segment <file> base <b> entries <first>...<last> (<n>) bytes <size> sealed|active`.
    static func line(_ segment: SegmentInfo) -> String {
        let entries = segment.lastIndex >= segment.firstIndex
            ? "\(segment.firstIndex)...\(segment.lastIndex) (\(segment.lastIndex - segment.firstIndex + 1))"
            : "none"
        return "segment \(segment.file) base \(segment.baseIndex) entries \(entries) bytes \(segment.bytes) "
            + (segment.sealed ? "sealed" : "active")
    }

    static func json(_ segment: SegmentInfo) -> [String: Any] {
        [
            "file": segment.file, "baseIndex": segment.baseIndex, "firstIndex": segment.firstIndex,
            "lastIndex": segment.lastIndex, "bytes": segment.bytes, "sealed": segment.sealed,
        ]
    }
}

/// `metactl log stat`: segments with their index ranges and sizes, first and last index, hard state.
struct LogStatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Show segments (index ranges, sizes), spare files, first and last index and the hard state.",
        discussion: "Never modifies the log. Exits 1 when the log is corrupt (run verify for details).")

    @Option(help: "The log directory.")
    var dir: String

    func run() throws {
        try LogOutput.run("stat") {
            try LogReading.requireDirectory(dir)
            let report = try LogInspector.verify(directory: dir)
            LogOutput.line("directory \(dir)")
            LogOutput.line("firstIndex \(report.firstIndex)")
            LogOutput.line("lastIndex \(report.lastIndex)")
            let entries = report.lastIndex >= report.firstIndex ? report.lastIndex - report.firstIndex + 1 : 0
            LogOutput.line("entries \(entries)")
            LogOutput.line("segments \(report.segments.count)")
            for segment in report.segments { LogOutput.line(LogSegmentText.line(segment)) }
            LogOutput.line("bytes \(report.segments.reduce(0) { $0 + Int64($1.bytes) })")
            // Spare files (recycling) hold disk space but no entries: shown apart from the segments.
            LogOutput.line("spares \(report.spareFiles.count) bytes \(report.spareBytes)")
            for name in report.spareFiles { LogOutput.line("spare \(name)") }
            if let offset = report.tornTailOffset {
                LogOutput.line("tornTail \(report.tornTailFile ?? "?") offset \(offset)")
            } else {
                LogOutput.line("tornTail none")
            }
            if let first = report.problems.first {
                LogOutput.line("problems \(report.problems.count)")
                LogOutput.errorLine("metactl log stat: \(dir) is corrupt: \(LogProblem(first)) (see metactl log verify)")
                throw ExitCode(LogOutput.corruptionExit)
            }
            let state = try LogInspector.hardState(directory: dir)
            LogOutput.line(
                "hardState term \(state.term) vote \(state.vote) commit \(state.commit) context \(state.context.count) bytes")
        }
    }
}
