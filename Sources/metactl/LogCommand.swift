import ArgumentParser

/// `metactl log`: the log subcommands.
struct LogCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log", abstract: "Offline tools for log data.", subcommands: [])
}
