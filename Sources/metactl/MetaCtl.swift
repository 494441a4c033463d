import ArgumentParser

/// `metactl`: inspect, verify, dump and repair MetaEngine logs and snapshots offline.
@main
struct MetaCtl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "metactl",
        abstract: "Inspect, verify, dump and repair MetaEngine logs and snapshots offline.",
        subcommands: [LogCommand.self, SnapshotCommand.self, InfluxCommand.self, KVCommand.self, EngineCommand.self])
}
