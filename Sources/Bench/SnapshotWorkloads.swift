/// `snapshot-write` and `snapshot-read`: owned by the MetaSnapshot issue, which replaces this body.
enum SnapshotWorkloads {
    /// Runs workload `name` ("snapshot-write" or "snapshot-read") in `directory`; `quick` shrinks sizes.
    static func run(name: String, directory: String, quick: Bool) throws -> [BenchResult] {
        throw BenchFailure(description: "\(name): MetaSnapshot is not built yet")
    }
}
