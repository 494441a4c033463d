import ArgumentParser
import Foundation
import MetaEngine

/// `metactl engine`: an engine directory (log/ + snapshots/) as a whole.
struct EngineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Inspect and verify a MetaEngine directory (its log, hard state and snapshots).",
        subcommands: [EngineStatCommand.self, EngineVerifyCommand.self, EngineLoadCommand.self])
}

/// Text and JSON output of an `EngineStat`, shared by stat and verify.
enum EngineStatOutput {
    /// Runs `body`; a thrown error is printed as `metactl engine <command>: <error>` and exits 2.
    static func run(_ command: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let exit as ExitCode {
            throw exit
        } catch {
            LogOutput.errorLine("metactl engine \(command): \(error)")
            throw ExitCode(LogOutput.failureExit)
        }
    }

    static func print(_ s: EngineStat, directory: String, json: Bool, verified: Bool) throws {
        if json {
            let snapshots: [[String: Any]] = s.snapshots.map { i in
                [
                    "file": i.file, "index": i.id.index, "term": i.id.term, "bytes": i.bytes,
                    "kind": i.kind ?? NSNull(), "version": i.version.map { Int($0) } ?? NSNull(),
                    "rawBytes": i.rawBytes ?? NSNull(), "membershipBytes": i.membershipBytes ?? NSNull(),
                    "problem": i.problem ?? NSNull(),
                ]
            }
            let object: [String: Any] = [
                "directory": directory, "firstIndex": s.firstIndex, "lastIndex": s.lastIndex,
                "segments": s.segments, "logBytes": s.logBytes, "tornTail": s.tornTail ?? NSNull(),
                "hardState": ["term": s.term, "vote": s.vote, "commit": s.commit,
                              "values": Dictionary(uniqueKeysWithValues: s.hostValues.map { ($0.name, $0.bytes) })],
                "snapshots": snapshots, "partialTransfers": s.partialTransfers,
                "snapshotBytes": s.snapshots.reduce(UInt64(0)) { $0 + $1.bytes },
                "appliedOnOpen": s.appliedOnOpen, "snapshotsVerified": verified, "problems": s.problems,
                "ok": s.problems.isEmpty,
            ]
            LogOutput.line(try LogOutput.json(object))
            return
        }
        LogOutput.line("directory \(directory)")
        let entries = s.lastIndex >= s.firstIndex ? s.lastIndex - s.firstIndex + 1 : 0
        LogOutput.line("log \(s.firstIndex)...\(s.lastIndex) entries \(entries) segments \(s.segments) bytes \(s.logBytes)")
        LogOutput.line("tornTail \(s.tornTail ?? "none")")
        LogOutput.line("hardState term \(s.term) vote \(s.vote) commit \(s.commit)")
        for v in s.hostValues { LogOutput.line("hostValue \(v.name) \(v.bytes) bytes") }
        LogOutput.line("snapshots \(s.snapshots.count) bytes \(s.snapshots.reduce(UInt64(0)) { $0 + $1.bytes })")
        for i in s.snapshots {
            var line = "snapshot \(i.file) index \(i.id.index) term \(i.id.term) bytes \(i.bytes)"
            if let kind = i.kind, let version = i.version { line += " kind \(kind) v\(version)" }
            if let raw = i.rawBytes { line += " raw \(raw)" }
            if let m = i.membershipBytes { line += " membership \(m) bytes" }
            line += i.problem.map { " DAMAGED: \($0)" } ?? (verified ? " verified" : "")
            LogOutput.line(line)
        }
        for p in s.partialTransfers { LogOutput.line("partial \(p)") }
        LogOutput.line("appliedOnOpen \(s.appliedOnOpen)")
        LogOutput.line("problems \(s.problems.count)")
        for p in s.problems { LogOutput.errorLine("problem: \(p)") }
    }
}

/// `metactl engine stat`: snapshots, log range, hard state, the applied index opening would reach, sizes.
struct EngineStatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stat",
        abstract: "Show an engine directory: log range and size, hard state, snapshots, applied index on open.",
        discussion: "Never modifies anything. Exits 1 when the log or a snapshot header is damaged.")

    @Option(help: "The engine directory (holding log/ and snapshots/).")
    var dir: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try EngineStatOutput.run("stat") {
            let s = try EngineInspector.stat(directory: dir)
            try EngineStatOutput.print(s, directory: dir, json: json, verified: false)
            if !s.problems.isEmpty { throw ExitCode(LogOutput.corruptionExit) }
        }
    }
}

/// `metactl engine verify`: the log's every frame and footer and every snapshot's chunks and digest.
struct EngineVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify",
        abstract: "Check the log (every frame) and every snapshot (every chunk and the digest).",
        discussion: "Never modifies anything. Exits 1 on any damage or a gap between snapshot and log.")

    @Option(help: "The engine directory (holding log/ and snapshots/).")
    var dir: String

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func run() throws {
        try EngineStatOutput.run("verify") {
            let s = try EngineInspector.verify(directory: dir)
            try EngineStatOutput.print(s, directory: dir, json: json, verified: true)
            if !s.problems.isEmpty { throw ExitCode(LogOutput.corruptionExit) }
        }
    }
}
