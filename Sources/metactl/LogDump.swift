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
            if let first = report.problems.first {
                throw first
            }
            try LogReading.withReadableLog(dir, report: report) { log in
                let start = from ?? log.firstIndex
                if from != nil && (start < log.firstIndex || start > log.lastIndex) {
                    throw LogToolError.indexOutOfRange(
                        flag: "--from", index: start, firstIndex: log.firstIndex, lastIndex: log.lastIndex)
                }
                if !json { LogOutput.line("index term kind size crc32c head") }
                try LogReading.forEachEntry(log, from: start, limit: count ?? .max) { header, bytes in
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
            }
        }
    }
}
