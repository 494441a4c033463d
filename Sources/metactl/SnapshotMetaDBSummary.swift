import MetaFSM
import MetaInflux

/// What `metactl snapshot inspect` shows for an InfluxDB `meta.db`: the Raft position, the cluster id, every
/// database with its retention policies (durations, replication, shard-group and shard counts, the default
/// marker), users with their privilege counts, and the totals. Built from a decoded `InfluxData`; counts
/// include shard groups that are marked deleted (they are still in the file), which are also counted apart.
struct SnapshotMetaDBSummary {
    /// One retention policy's row.
    struct Policy {
        var name: String
        var isDefault: Bool
        var durationNanos: Int64
        var shardGroupDurationNanos: Int64
        var replicaN: UInt32
        var shardGroups: Int
        var deletedShardGroups: Int
        var shards: Int
        var subscriptions: Int
    }

    /// One database's row.
    struct Database {
        var name: String
        var defaultRetentionPolicy: String
        var policies: [Policy]
        var continuousQueries: Int
    }

    /// One user's row.
    struct User {
        var name: String
        var admin: Bool
        var privileges: Int
    }

    var file: String
    var term: UInt64
    var index: UInt64
    var clusterID: UInt64
    var maxShardGroupID: UInt64
    var maxShardID: UInt64
    var databases: [Database]
    var users: [User]

    /// Summarises `data`, in the file's order. Cost: one pass over the state, no copies of shard lists.
    init(file: String, data: InfluxData) {
        self.file = file
        term = data.term
        index = data.index
        clusterID = data.clusterID
        maxShardGroupID = data.maxShardGroupID
        maxShardID = data.maxShardID
        databases = data.databases.map { db in
            Database(
                name: db.name, defaultRetentionPolicy: db.defaultRetentionPolicy,
                policies: db.retentionPolicies.map { rp in
                    let groups = rp.shardGroups
                    return Policy(
                        name: rp.name, isDefault: rp.name == db.defaultRetentionPolicy, durationNanos: rp.duration,
                        shardGroupDurationNanos: rp.shardGroupDuration, replicaN: rp.replicaN,
                        shardGroups: groups.count, deletedShardGroups: groups.reduce(0) { $0 + ($1.isDeleted ? 1 : 0) },
                        shards: groups.reduce(0) { $0 + $1.shards.count }, subscriptions: rp.subscriptions.count)
                },
                continuousQueries: db.continuousQueries.count)
        }
        users = data.users.map { User(name: $0.name, admin: $0.admin, privileges: $0.privileges.count) }
    }

    var policyCount: Int { databases.reduce(0) { $0 + $1.policies.count } }
    var shardGroupCount: Int { allPolicies.reduce(0) { $0 + $1.shardGroups } }
    var deletedShardGroupCount: Int { allPolicies.reduce(0) { $0 + $1.deletedShardGroups } }
    var shardCount: Int { allPolicies.reduce(0) { $0 + $1.shards } }
    var continuousQueryCount: Int { databases.reduce(0) { $0 + $1.continuousQueries } }
    var subscriptionCount: Int { allPolicies.reduce(0) { $0 + $1.subscriptions } }
    private var allPolicies: [Policy] { databases.flatMap(\.policies) }

    /// A readable report: totals first, then one line per database, policy and user.
    func text() -> String {
        var lines = [
            "file: \(file)",
            "format: influxdb-meta.db (InfluxDB 1.x meta store, protobuf meta.Data; not a MetaEngine snapshot)",
            "term: \(term)",
            "index: \(index)",
            "cluster id: \(clusterID)",
            "max shard group id: \(maxShardGroupID)",
            "max shard id: \(maxShardID)",
            "databases: \(databases.count), retention policies: \(policyCount), shard groups: \(shardGroupCount) "
                + "(\(deletedShardGroupCount) deleted), shards: \(shardCount)",
            "users: \(users.count), continuous queries: \(continuousQueryCount), subscriptions: \(subscriptionCount)",
        ]
        for db in databases {
            lines.append(
                "database \(quoted(db.name)): default policy \(quoted(db.defaultRetentionPolicy)), "
                    + "\(db.policies.count) retention policies, \(db.continuousQueries) continuous queries")
            for p in db.policies {
                lines.append(
                    "  policy \(quoted(p.name))\(p.isDefault ? " (default)" : ""): duration "
                        + "\(p.durationNanos == 0 ? "0s (infinite)" : goDuration(p.durationNanos)), "
                        + "shard group duration \(goDuration(p.shardGroupDurationNanos)), replicaN \(p.replicaN), "
                        + "\(p.shardGroups) shard groups (\(p.deletedShardGroups) deleted), \(p.shards) shards, "
                        + "\(p.subscriptions) subscriptions")
            }
        }
        for u in users {
            lines.append("user \(quoted(u.name)): \(u.admin ? "admin" : "not admin"), \(u.privileges) privileges")
        }
        lines.append("status: ok")
        return lines.joined(separator: "\n")
    }

    /// The same facts as one JSON object with `"format":"influxdb-meta.db"`. Durations are given in ns and in
    /// Go's notation; `cluster_id` is a decimal string because real cluster ids exceed 2^53.
    func json() -> String {
        let dbs: [[String: Any]] = databases.map { db in
            [
                "name": db.name, "default_retention_policy": db.defaultRetentionPolicy,
                "continuous_queries": db.continuousQueries,
                "retention_policies": db.policies.map { p -> [String: Any] in
                    [
                        "name": p.name, "default": p.isDefault, "duration_ns": p.durationNanos,
                        "duration": goDuration(p.durationNanos), "shard_group_duration_ns": p.shardGroupDurationNanos,
                        "shard_group_duration": goDuration(p.shardGroupDurationNanos), "replica_n": p.replicaN,
                        "shard_groups": p.shardGroups, "deleted_shard_groups": p.deletedShardGroups,
                        "shards": p.shards, "subscriptions": p.subscriptions,
                    ]
                },
            ]
        }
        let us: [[String: Any]] = users.map { ["name": $0.name, "admin": $0.admin, "privileges": $0.privileges] }
        return snapshotJSONLine([
            "file": file, "format": "influxdb-meta.db", "ok": true, "term": term, "index": index,
            "cluster_id": String(clusterID), "max_shard_group_id": maxShardGroupID, "max_shard_id": maxShardID,
            "databases": dbs, "users": us, "retention_policy_count": policyCount,
            "shard_group_count": shardGroupCount, "deleted_shard_group_count": deletedShardGroupCount,
            "shard_count": shardCount, "continuous_queries": continuousQueryCount,
            "subscriptions": subscriptionCount,
        ])
    }

    private func quoted(_ s: String) -> String { String(reflecting: s) }
}

/// `ns` as Go's `time.Duration.String` writes it (InfluxDB shows retention durations this way):
/// "0s", "1h0m0s", "168h0m0s", "1.5s", "250ms", "-5m0s".
func goDuration(_ ns: Int64) -> String {
    let sign = ns < 0 ? "-" : ""
    let u = ns.magnitude
    if u == 0 { return "0s" }
    if u < 1_000 { return "\(sign)\(u)ns" }
    if u < 1_000_000 { return sign + decimal(u, scale: 1_000) + "µs" }
    if u < 1_000_000_000 { return sign + decimal(u, scale: 1_000_000) + "ms" }
    let seconds = decimal(u % 60_000_000_000, scale: 1_000_000_000) + "s"
    let minutes = u / 60_000_000_000
    if minutes == 0 { return sign + seconds }
    if minutes < 60 { return "\(sign)\(minutes)m" + seconds }
    return "\(sign)\(minutes / 60)h\(minutes % 60)m" + seconds
}

/// `value / scale` with its fraction written without trailing zeros ("1.5", "2", "0.25").
private func decimal(_ value: UInt64, scale: UInt64) -> String {
    let whole = value / scale
    var fraction = value % scale
    if fraction == 0 { return String(whole) }
    var digits = String(scale).count - 1
    while fraction % 10 == 0 {
        fraction /= 10
        digits -= 1
    }
    let text = String(fraction)
    return "\(whole)." + String(repeating: "0", count: digits - text.count) + text
}
