import ArgumentParser

/// `metactl influx`: the influx subcommands.
struct InfluxCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "influx", abstract: "Offline tools for influx data.", subcommands: [])
}
