import ArgumentParser
import Foundation
import MetaLog

/// Payload patterns `metactl log verify --payload` can check.
enum LogPayloadPattern: String, ExpressibleByArgument, CaseIterable {
    /// `StandardPayload`: splitmix64 seeded with the entry's index, at the payload's own length.
    case splitmix64
}

/// One problem found by `metactl log verify`: where it is and what is wrong.
struct LogProblem: CustomStringConvertible {
    var file: String?
    var offset: Int64?
    var index: UInt64?
    var reason: String

    init(file: String?, offset: Int64?, index: UInt64?, reason: String) {
        self.file = file
        self.offset = offset
        self.index = index
        self.reason = reason
    }

    /// A problem from an error MetaLog reported.
    init(_ error: LogError) {
        if case let .corruption(file, offset, index, reason) = error {
            self.init(file: file, offset: offset, index: index, reason: reason)
        } else {
            self.init(file: nil, offset: nil, index: nil, reason: "\(error)")
        }
    }

    var description: String {
        var place: [String] = []
        if let file { place.append(file) }
        if let offset { place.append("offset \(offset)") }
        if let index { place.append("index \(index)") }
        return place.isEmpty ? reason : place.joined(separator: " ") + ": " + reason
    }

    var json: [String: Any] {
        [
            "file": file ?? NSNull(), "offset": offset ?? NSNull(), "index": index ?? NSNull(),
            "reason": reason,
        ]
    }
}

/// `metactl log verify`: checks every frame and footer, optionally every payload; never modifies the log.
struct LogVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check every frame and footer of a log (and with --payload every payload).",
        discussion: """
            Prints the first and last index and the segment count. Exits 1 on any corruption, naming file, \
            offset and index. A torn tail (what opening the log would cut) is reported with its offset but \
            is not an error. --json prints one object: firstIndex, lastIndex, segments, segmentFiles, \
            spareFiles (kept for segment recycling, not part of the log), spareBytes, tornTailFile, \
            tornTailOffset (or null), payloadsChecked (or null), problems. The payload check \
            runs only when every frame is valid (otherwise payloadsChecked is null).
            """)

    @Option(help: "The log directory.")
    var dir: String

    @Option(help: "Also check that every payload equals this pattern for its index (splitmix64).")
    var payload: LogPayloadPattern?

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    /// At most this many payload mismatches are listed (the count says how many there are).
    static let payloadProblemLimit = 100

    func run() throws {
        try LogOutput.run("verify") {
            try LogReading.requireDirectory(dir)
            let report = try LogInspector.verify(directory: dir)
            var problems = report.problems.map(LogProblem.init)
            var payloadsChecked: Int?
            if payload != nil && problems.isEmpty {
                let check = try checkPayloads(from: report.firstIndex, segments: report.segments)
                payloadsChecked = check.checked
                problems += check.problems
            }
            let tornFile = report.tornTailOffset == nil ? nil : report.tornTailFile
            if json {
                let object: [String: Any] = [
                    "directory": dir,
                    "firstIndex": report.firstIndex,
                    "lastIndex": report.lastIndex,
                    "segments": report.segments.count,
                    "segmentFiles": report.segments.map(LogSegmentText.json),
                    "spareFiles": report.spareFiles,
                    "spareBytes": report.spareBytes,
                    "tornTailFile": tornFile ?? NSNull(),
                    "tornTailOffset": report.tornTailOffset ?? NSNull(),
                    "payloadsChecked": payloadsChecked ?? NSNull(),
                    "problems": problems.map(\.json),
                ]
                LogOutput.line(try LogOutput.json(object))
            } else {
                LogOutput.line("firstIndex \(report.firstIndex)")
                LogOutput.line("lastIndex \(report.lastIndex)")
                LogOutput.line("segments \(report.segments.count)")
                if let offset = report.tornTailOffset {
                    LogOutput.line("tornTail \(tornFile ?? "?") offset \(offset) (opening the log cuts it; not an error)")
                } else {
                    LogOutput.line("tornTail none")
                }
                if let payloadsChecked { LogOutput.line("payloadsChecked \(payloadsChecked)") }
                LogOutput.line("problems \(problems.count)")
                for problem in problems { LogOutput.line("problem \(problem)") }
            }
            if let first = problems.first {
                LogOutput.errorLine(
                    "metactl log verify: \(dir) has \(problems.count) problem(s); the first: \(first)")
                throw ExitCode(LogOutput.corruptionExit)
            }
        }
    }

    /// Compares every payload with the standard payload of its index at the payload's own length.
    private func checkPayloads(
        from first: UInt64, segments: [SegmentInfo]
    ) throws -> (checked: Int, problems: [LogProblem]) {
        var checked = 0
        var mismatches = 0
        var problems: [LogProblem] = []
        try LogReading.forEachEntry(dir, from: first) { header, bytes in
            checked += 1
            if !StandardPayload.matches(index: header.index, bytes: bytes) {
                mismatches += 1
                if problems.count < Self.payloadProblemLimit {
                    let file = segments.first { $0.firstIndex <= header.index && header.index <= $0.lastIndex }?.file
                    problems.append(LogProblem(
                        file: file, offset: nil, index: header.index,
                        reason: "payload (\(bytes.count) bytes) differs from the splitmix64 payload of its index"))
                }
            }
            return true
        }
        if mismatches > problems.count {
            problems.append(LogProblem(
                file: nil, offset: nil, index: nil,
                reason: "\(mismatches - problems.count) more payload mismatches not listed"))
        }
        return (checked, problems)
    }
}
