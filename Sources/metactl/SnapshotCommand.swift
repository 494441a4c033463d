import ArgumentParser

/// `metactl snapshot`: the snapshot subcommands.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Offline tools for snapshot data.", subcommands: [])
}
