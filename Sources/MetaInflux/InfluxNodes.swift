// Node and peer commands (types 1, 2, 19, 23-29). InfluxDB 1.6.7 OSS has no implementation of them; these
// rules follow the clustered meta store they came from (0.10 `Nodes`, 0.11-1.x `DataNodes`/`MetaNodes`),
// made deterministic. docs/INFLUXDB.md lists every choice.

extension InfluxStore {
    mutating func applyNodeCommand(_ command: InfluxCommand, now: Int64) -> InfluxError? {
        switch command {
        case let .createNode(host, rand):
            if data.nodes.contains(where: { goEqual($0.host, host) }) { return .nodeExists }
            data.maxNodeID &+= 1
            data.nodes.append(NodeInfo(id: data.maxNodeID, host: host))
            if data.clusterID == 0 { data.clusterID = rand }
            return nil
        case let .deleteNode(id, force):
            return deleteNode(id, force: force, from: \.nodes)
        case let .updateNode(id, host):
            guard let i = data.nodes.firstIndex(where: { $0.id == id }) else { return .nodeNotFound }
            data.nodes[i].host = host
            return nil
        case .removePeer:
            // Raft membership belongs to the host's consensus layer, not to Data; the clustered store
            // only changed its raft peers here. Accepted, no state change.
            return nil
        case let .createMetaNode(http, tcp, rand):
            if data.metaNodes.contains(where: { goEqual($0.host, http) }) { return .nodeExists }
            data.maxNodeID &+= 1
            data.metaNodes.append(NodeInfo(id: data.maxNodeID, host: http, tcpHost: tcp))
            if data.clusterID == 0 { data.clusterID = rand }
            return nil
        case let .createDataNode(http, tcp):
            if data.dataNodes.contains(where: { goEqual($0.host, http) || goEqual($0.tcpHost ?? "", tcp) }) {
                return .nodeExists
            }
            data.maxNodeID &+= 1
            data.dataNodes.append(NodeInfo(id: data.maxNodeID, host: http, tcpHost: tcp))
            return nil
        case let .updateDataNode(id, host, tcp):
            guard let i = data.dataNodes.firstIndex(where: { $0.id == id }) else { return .nodeNotFound }
            data.dataNodes[i].host = host
            data.dataNodes[i].tcpHost = tcp
            return nil
        case let .deleteMetaNode(id):
            guard let i = data.metaNodes.firstIndex(where: { $0.id == id }) else { return .nodeNotFound }
            data.metaNodes.remove(at: i)
            return nil
        case let .deleteDataNode(id):
            return deleteNode(id, force: true, from: \.dataNodes)
        case let .setMetaNode(http, tcp, rand):
            if data.metaNodes.isEmpty {
                data.maxNodeID &+= 1
                data.metaNodes.append(NodeInfo(id: data.maxNodeID, host: http, tcpHost: tcp))
                if data.clusterID == 0 { data.clusterID = rand }
                return nil
            }
            guard data.metaNodes.count == 1 else { return .metaNodeAlreadySet }
            data.metaNodes[0].host = http
            data.metaNodes[0].tcpHost = tcp
            return nil
        default:
            return nil
        }
    }

    /// Removes node `id` from `list` and from every shard's owners. Without `force`, refuses when some
    /// shard of a policy with ReplicaN 1 is owned by this node alone (its data would be lost).
    mutating func deleteNode(_ id: UInt64, force: Bool, from list: WritableKeyPath<InfluxData, [NodeInfo]>)
        -> InfluxError?
    {
        if id == 0 { return .nodeIDRequired }
        guard let i = data[keyPath: list].firstIndex(where: { $0.id == id }) else { return .nodeNotFound }
        if !force {
            for db in data.databases {
                for rp in db.retentionPolicies where rp.replicaN <= 1 {
                    for g in rp.groups {
                        for s in g.shards where s.owners == [id] { _ = s; return .shardNotReplicated }
                    }
                }
            }
        }
        data[keyPath: list].remove(at: i)
        for d in data.databases.indices {
            for p in data.databases[d].retentionPolicies.indices {
                let owned = data.databases[d].retentionPolicies[p].groups.contains { g in
                    g.shards.contains { $0.owners.contains(id) }
                }
                guard owned else { continue }
                for g in data.databases[d].retentionPolicies[p].groups.indices {
                    for s in data.databases[d].retentionPolicies[p].groups[g].shards.indices {
                        data.databases[d].retentionPolicies[p].groups[g].shards[s].owners.removeAll { $0 == id }
                    }
                }
            }
        }
        return nil
    }
}
