import Foundation
import MetaFSM
import MetaInflux

/// Reads a whole file; the error names the path.
func influxReadFile(_ path: String) throws -> [UInt8] {
    guard let d = FileManager.default.contents(atPath: path) else {
        throw ValidationErrorText("cannot read \(path)")
    }
    return Array(d)
}

/// Writes a whole file (replacing it); the error names the path.
func influxWriteFile(_ path: String, _ bytes: [UInt8]) throws {
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    } catch {
        throw ValidationErrorText("cannot write \(path): \(error.localizedDescription)")
    }
}

/// An error whose text is shown as is.
struct ValidationErrorText: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A readable multi-line summary of a meta state.
func influxSummary(_ d: InfluxData) -> String {
    var s = "term \(d.term) index \(d.index) cluster \(d.clusterID)\n"
    s += "max shard group id \(d.maxShardGroupID), max shard id \(d.maxShardID)\n"
    for db in d.databases {
        s += "database \(db.name) (default policy \"\(db.defaultRetentionPolicy)\")\n"
        for rp in db.retentionPolicies {
            let deleted = rp.shardGroups.filter(\.isDeleted).count
            s += "  policy \(rp.name): duration \(rp.duration)ns, shard group duration \(rp.shardGroupDuration)ns, "
            s += "replicas \(rp.replicaN), \(rp.shardGroups.count) shard groups (\(deleted) deleted), "
            s += "\(rp.subscriptions.count) subscriptions\n"
        }
        for cq in db.continuousQueries { s += "  continuous query \(cq.name)\n" }
    }
    for u in d.users {
        let privs = u.privileges.map { "\($0.database)=\($0.privilege)" }.joined(separator: ",")
        s += "user \(u.name)\(u.admin ? " (admin)" : "") privileges [\(privs)]\n"
    }
    if !d.nodes.isEmpty || !d.dataNodes.isEmpty || !d.metaNodes.isEmpty {
        s += "nodes \(d.nodes.count), data nodes \(d.dataNodes.count), meta nodes \(d.metaNodes.count), "
        s += "max node id \(d.maxNodeID)\n"
    }
    return s
}
