import ArgumentParser

/// `metactl log`: the operator's view of a MetaLog directory.
///
/// Exit codes of every subcommand: 0 success, 1 corruption found (verify, or an operation that met it),
/// 2 any other failure (missing directory, lock held, bad index, I/O error). Argument errors that the
/// parser itself catches (a missing or malformed flag) exit with the parser's usage code (64).
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "Offline tools for MetaLog directories: append, verify, dump, stat, repair, truncate, compact.",
        subcommands: [
            LogAppendCommand.self, LogVerifyCommand.self, LogDumpCommand.self, LogStatCommand.self,
            LogRepairCommand.self, LogTruncateCommand.self, LogCompactCommand.self,
        ])
}
