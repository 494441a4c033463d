/// `influx-apply`: owned by the MetaFSM issue, which replaces this body.
enum InfluxWorkloads {
    /// Runs the InfluxDB meta-store workloads in `directory`; `quick` shrinks sizes.
    static func run(directory: String, quick: Bool) throws -> [BenchResult] {
        throw BenchFailure(description: "influx-apply: MetaFSM is not built yet")
    }
}
