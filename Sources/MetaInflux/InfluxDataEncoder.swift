// Encoding `Data` (meta.db) as InfluxDB 1.6.7's Data.MarshalBinary does (spec 2.1): fields in number
// order, every required field written even when zero, TruncatedAt only when set, owners as `Owners`,
// privileges in ascending database name (the order the conformance fixtures fix), unknown fields last.
// Node state (fields 4, 10, 11) is written only when present, so states without nodes are byte-identical
// to what 1.6.7 writes.

import MetaFSM

extension InfluxData {
    /// The meta.db bytes of this state.
    ///
    /// - Complexity: O(n) in the output size; one output array (plus one small move per nested message of
    ///   128 bytes or more).
    public func metaDBBytes(capacityHint: Int = 4096) -> [UInt8] {
        var w = WireWriter(capacity: capacityHint)
        encode(into: &w)
        return w.bytes
    }

    /// Appends the fields of this `Data` message to `w`.
    public func encode(into w: inout WireWriter) {
        w.uint64(1, term)
        w.uint64(2, index)
        w.uint64(3, clusterID)
        for n in nodes { w.message(4) { n.encode(into: &$0) } }
        for db in databases { w.message(5) { db.encode(into: &$0) } }
        for u in users { w.message(6) { u.encode(into: &$0) } }
        w.uint64(7, maxNodeID)
        w.uint64(8, maxShardGroupID)
        w.uint64(9, maxShardID)
        for n in dataNodes { w.message(10) { n.encode(into: &$0) } }
        for n in metaNodes { w.message(11) { n.encode(into: &$0) } }
        w.unknown(unknownFields)
    }
}

extension NodeInfo {
    func encode(into w: inout WireWriter) {
        w.uint64(1, id)
        w.string(2, host)
        if let t = tcpHost { w.string(3, t) }
        w.unknown(unknownFields)
    }
}

extension DatabaseInfo {
    func encode(into w: inout WireWriter) {
        w.string(1, name)
        w.string(2, defaultRetentionPolicy)
        for rp in retentionPolicies { w.message(3) { rp.encode(into: &$0) } }
        for cq in continuousQueries {
            w.message(4) {
                $0.string(1, cq.name)
                $0.string(2, cq.query)
                $0.unknown(cq.unknownFields)
            }
        }
        w.unknown(unknownFields)
    }
}

extension RetentionPolicyInfo {
    /// Appends the fields of this `RetentionPolicyInfo` message to `w`.
    func encode(into w: inout WireWriter) {
        w.string(1, name)
        w.int64(2, duration)
        w.int64(3, shardGroupDuration)
        w.uint32(4, replicaN)
        for g in groups { w.message(5) { g.encode(into: &$0) } }
        for s in subscriptions {
            w.message(6) {
                $0.string(1, s.name)
                $0.string(2, s.mode)
                for d in s.destinations { $0.string(3, d) }
                $0.unknown(s.unknownFields)
            }
        }
        w.unknown(unknownFields)
    }
}

extension ShardGroupInfo {
    func encode(into w: inout WireWriter) {
        w.uint64(1, id)
        w.int64(2, startTime)
        w.int64(3, endTime)
        w.int64(4, deletedAt)
        for s in shards {
            w.message(5) {
                $0.uint64(1, s.id)
                for o in s.owners { $0.message(3) { $0.uint64(1, o) } }
                $0.unknown(s.unknownFields)
            }
        }
        if truncatedAt != 0 { w.int64(6, truncatedAt) }
        w.unknown(unknownFields)
    }
}

extension UserInfo {
    func encode(into w: inout WireWriter) {
        w.string(1, name)
        w.string(2, hash)
        w.bool(3, admin)
        for p in privileges {
            w.message(4) {
                $0.string(1, p.database)
                $0.int32(2, p.privilege)
            }
        }
        w.unknown(unknownFields)
    }
}
