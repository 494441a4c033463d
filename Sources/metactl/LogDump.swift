import ArgumentParser
import MetaLog

/// `metactl log dump`: one line per entry: index, term, kind, payload size, payload CRC32C, first bytes.
struct LogDumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Print entries: index, term, kind, size, payload CRC32C and the first 16 payload bytes in hex.",
        discussion: "--json prints one JSON object per line (index, term, kind, size, crc32c, head). "
            + "Never modifies the log.")

    @Option(help: "The log directory.")
    var dir: String

    @Option(help: "First index to print (default: the log's first index).")
    var from: UInt64?

    @Option(help: "How many entries to print (default: all).")
    var count: Int?

    @Flag(help: "Print one JSON object per entry instead of text.")
    var json = false

    /// Payload bytes shown in hex.
    static let headBytes = 16

    func run() throws {
        try LogOutput.run("dump") {
            try LogReading.requireDirectory(dir)
            if let count, count < 0 { throw LogOutput.usage("dump", "--count must be >= 0, got \(count)") }
            let report = try LogInspector.verify(directory: dir)
            let start = from ?? report.firstIndex
            if from != nil && (start < report.firstIndex || start > report.lastIndex) {
                throw LogToolError.indexOutOfRange(
                    flag: "--from", index: start, firstIndex: report.firstIndex, lastIndex: report.lastIndex)
            }
            if !json { LogOutput.line("index term kind size crc32c head") }
            // Entries before a corruption are printed; reaching it ends the dump with exit code 1.
            try LogReading.forEachEntry(dir, from: start, limit: count ?? .max) { header, bytes in
                let crc = String(CRC32C.extend(0, bytes), radix: 16)
                let padded = String(repeating: "0", count: 8 - crc.count) + crc
                let head = LogOutput.hex(UnsafeRawBufferPointer(rebasing: bytes.prefix(Self.headBytes)))
                if json {
                    LogOutput.line(try LogOutput.json([
                        "index": header.index, "term": header.term, "kind": Int(header.kind),
                        "size": bytes.count, "crc32c": padded, "head": head,
                    ] as [String: Any]))
                } else {
                    LogOutput.line("\(header.index) \(header.term) \(header.kind) \(bytes.count) \(padded) \(head)")
                }
                return true
            }
            if let problem = report.problems.first, count == nil { throw problem }
        }
    }
}
