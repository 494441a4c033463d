// Decoding `Data` (meta.db) from protobuf, with 1.6.7's reading rules (spec 2.2):
// required fields enforced, OwnerIDs turned into owners, duplicate privileges collapsed (last wins),
// unknown fields kept. Every repeated/nested field of the same number merges, as proto2 parsers do.

import MetaFSM

extension InfluxData {
    /// Decodes a meta.db file (or any `Data` message).
    ///
    /// - Throws: ``MetaFSMError`` naming the message and byte offset of the first problem.
    /// - Complexity: O(n) in the input size; one allocation per string and list.
    public init(metaDB bytes: UnsafeRawBufferPointer) throws {
        var r = WireReader(bytes, message: "Data")
        self.init()
        try decodeFields(&r)
    }

    /// Decodes a meta.db held in an array.
    public init(metaDB bytes: [UInt8]) throws {
        self = try bytes.withUnsafeBytes { try InfluxData(metaDB: $0) }
    }

    /// Merges the fields of one `Data` message read by `r` into `self`.
    mutating func decodeFields(_ r: inout WireReader) throws {
        let start = r.offset
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1, 2, 3, 7, 8, 9:
                let v = try r.varint(wt, f, at)
                switch f {
                case 1: term = v; seen |= 1
                case 2: index = v; seen |= 2
                case 3: clusterID = v; seen |= 4
                case 7: maxNodeID = v; seen |= 8
                case 8: maxShardGroupID = v; seen |= 16
                default: maxShardID = v; seen |= 32
                }
            case 4, 10, 11:
                var sub = try r.message(wt, f, at, "NodeInfo")
                let n = try NodeInfo(decoding: &sub)
                if f == 4 { nodes.append(n) } else if f == 10 { dataNodes.append(n) } else { metaNodes.append(n) }
            case 5:
                var sub = try r.message(wt, f, at, "DatabaseInfo")
                databases.append(try DatabaseInfo(decoding: &sub))
            case 6:
                var sub = try r.message(wt, f, at, "UserInfo")
                users.append(try UserInfo(decoding: &sub))
            default:
                try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 63, ["Term", "Index", "ClusterID", "MaxNodeID", "MaxShardGroupID", "MaxShardID"],
                         start: start)
    }
}

extension NodeInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(id: 0, host: "")
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: id = try r.varint(wt, f, at); seen |= 1
            case 2: host = try r.string(wt, f, at); seen |= 2
            case 3: tcpHost = try r.string(wt, f, at)
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 3, ["ID", "Host"], start: start)
    }
}

extension DatabaseInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(name: "")
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2: defaultRetentionPolicy = try r.string(wt, f, at); seen |= 2
            case 3:
                var sub = try r.message(wt, f, at, "RetentionPolicyInfo")
                var rp = RetentionPolicyInfo(name: "", duration: 0, shardGroupDuration: 0, replicaN: 0)
                try rp.decodeFields(&sub)
                retentionPolicies.append(rp)
            case 4:
                var sub = try r.message(wt, f, at, "ContinuousQueryInfo")
                continuousQueries.append(try ContinuousQueryInfo(decoding: &sub))
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 3, ["Name", "DefaultRetentionPolicy"], start: start)
    }
}

extension RetentionPolicyInfo {
    /// Merges one `RetentionPolicyInfo` message into `self` (commands embed it too).
    mutating func decodeFields(_ r: inout WireReader) throws {
        let start = r.offset
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2:
                duration = Int64(bitPattern: try r.varint(wt, f, at)); seen |= 2
            case 3:
                shardGroupDuration = Int64(bitPattern: try r.varint(wt, f, at)); seen |= 4
            case 4:
                replicaN = UInt32(truncatingIfNeeded: try r.varint(wt, f, at)); seen |= 8
            case 5:
                var sub = try r.message(wt, f, at, "ShardGroupInfo")
                groups.append(try ShardGroupInfo(decoding: &sub))
            case 6:
                var sub = try r.message(wt, f, at, "SubscriptionInfo")
                subscriptions.append(try SubscriptionInfo(decoding: &sub))
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        order.invalidate()
        try r.requireAll(seen, 15, ["Name", "Duration", "ShardGroupDuration", "ReplicaN"], start: start)
    }
}

extension ShardGroupInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(id: 0, startTime: 0, endTime: 0)
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1, 2, 3, 4, 6:
                let v = try r.varint(wt, f, at)
                switch f {
                case 1: id = v; seen |= 1
                case 2: startTime = Int64(bitPattern: v); seen |= 2
                case 3: endTime = Int64(bitPattern: v); seen |= 4
                case 4: deletedAt = Int64(bitPattern: v); seen |= 8
                default: truncatedAt = Int64(bitPattern: v)
                }
            case 5:
                var sub = try r.message(wt, f, at, "ShardInfo")
                shards.append(try ShardInfo(decoding: &sub))
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 15, ["ID", "StartTime", "EndTime", "DeletedAt"], start: start)
    }
}

extension ShardInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(id: 0)
        var seen: UInt32 = 0
        var ownerIDs: [UInt64] = []
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: id = try r.varint(wt, f, at); seen |= 1
            case 2:
                if wt == 2 {  // packed form, accepted as proto2 parsers do
                    var sub = r.nested(try r.lengthDelimited(), "ShardInfo.OwnerIDs")
                    while !sub.isAtEnd { ownerIDs.append(try sub.varint()) }
                } else {
                    ownerIDs.append(try r.varint(wt, f, at))
                }
            case 3:
                var sub = try r.message(wt, f, at, "ShardOwner")
                owners.append(try ShardInfo.decodeOwner(&sub))
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 1, ["ID"], start: start)
        if !ownerIDs.isEmpty { owners = ownerIDs }  // 1.6.7: deprecated OwnerIDs win when present
    }

    static func decodeOwner(_ r: inout WireReader) throws -> UInt64 {
        let start = r.offset
        var node: UInt64 = 0
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            if f == 1 {
                node = try r.varint(wt, f, at)
                seen = 1
            } else {
                try r.skip(wireType: wt, field: f)
            }
        }
        try r.requireAll(seen, 1, ["NodeID"], start: start)
        return node
    }
}

extension SubscriptionInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(name: "", mode: "", destinations: [])
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2: mode = try r.string(wt, f, at); seen |= 2
            case 3: destinations.append(try r.string(wt, f, at))
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 3, ["Name", "Mode"], start: start)
    }
}

extension ContinuousQueryInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(name: "", query: "")
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2: query = try r.string(wt, f, at); seen |= 2
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 3, ["Name", "Query"], start: start)
    }
}

extension UserInfo {
    init(decoding r: inout WireReader) throws {
        let start = r.offset
        self.init(name: "", hash: "", admin: false)
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: name = try r.string(wt, f, at); seen |= 1
            case 2: hash = try r.string(wt, f, at); seen |= 2
            case 3: admin = try r.varint(wt, f, at) != 0; seen |= 4
            case 4:
                var sub = try r.message(wt, f, at, "UserPrivilege")
                let p = try UserInfo.decodePrivilege(&sub)
                setPrivilege(p.privilege, on: p.database)  // later duplicates win, as in 1.6.7's map
            default: try r.keepUnknown(wireType: wt, field: f, tagStart: at, into: &unknownFields)
            }
        }
        try r.requireAll(seen, 7, ["Name", "Hash", "Admin"], start: start)
    }

    static func decodePrivilege(_ r: inout WireReader) throws -> UserPrivilege {
        let start = r.offset
        var p = UserPrivilege(database: "", privilege: 0)
        var seen: UInt32 = 0
        while !r.isAtEnd {
            let at = r.offset
            let (f, wt) = try r.tag()
            switch f {
            case 1: p.database = try r.string(wt, f, at); seen |= 1
            case 2:
                p.privilege = Int32(truncatingIfNeeded: try r.varint(wt, f, at)); seen |= 2
            default: try r.skip(wireType: wt, field: f)
            }
        }
        try r.requireAll(seen, 3, ["Database", "Privilege"], start: start)
        return p
    }
}
