/// One measured workload: printed as a row of the readable table, or as one JSON line in the schema of
/// ../shared/peers (`system`, `workload`, `entries`, `entry_bytes`, `batch`, `seconds`, `entries_per_s`,
/// `mib_per_s`, `note`) plus any `extra` figures (latency percentiles, GB/s, bytes per entry).
struct BenchResult {
    var workload: String
    /// Operations counted in `entries_per_s` (entries, reads, commands).
    var entries: Int
    var entryBytes: Int
    var batch: Int
    var seconds: Double
    var note: String = ""
    /// Extra named figures, printed in the table and added to the JSON object (e.g. "p99_us", "gb_per_s").
    var extra: [(name: String, value: Double)] = []
    /// Which variant of the workload this row is (e.g. "random data", "1 MiB segments"); empty for one row.
    var variant: String = ""
    /// Bytes per operation for `mib_per_s` when not `entryBytes` (kv-range counts its 100 values).
    var bytesPerOp: Int? = nil

    var entriesPerSecond: Double { seconds > 0 ? Double(entries) / seconds : 0 }
    var mibPerSecond: Double { seconds > 0 ? Double(entries * (bytesPerOp ?? entryBytes)) / 1_048_576 / seconds : 0 }
}

/// Raised by a workload that cannot run (bad arguments, missing data, failed verification).
struct BenchFailure: Error, CustomStringConvertible {
    var description: String
}
