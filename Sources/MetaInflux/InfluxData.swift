// The InfluxDB meta state (`Data` of meta.proto, what meta.db holds), as value types.
// Field meanings and orders: shared/spec/influxdb-meta.md sections 1.2 and 2.

import MetaFSM

/// The whole InfluxDB meta state: what InfluxDB keeps in `meta.db`.
///
/// Value semantics: copying is O(1) until one copy is mutated (copy-on-write arrays), so hosts can take
/// a consistent view cheaply. Lists keep InfluxDB's order; see ``InfluxStore`` for fast look-ups.
public struct InfluxData: Equatable, Sendable {
    /// Raft term of the last applied entry.
    public var term: UInt64 = 0
    /// Raft index of the last applied entry.
    public var index: UInt64 = 0
    /// Cluster id (1.6.7 picks a random one when a store is created; 0 in the conformance convention).
    public var clusterID: UInt64 = 0
    /// Databases in creation order.
    public var databases: [DatabaseInfo] = []
    /// Users in creation order.
    public var users: [UserInfo] = []
    /// Highest shard group id ever given out (ids are never reused).
    public var maxShardGroupID: UInt64 = 0
    /// Highest shard id ever given out (ids are never reused).
    public var maxShardID: UInt64 = 0
    /// Clustered-era node state (fields 4, 7, 10, 11). 1.6.7 ignores it when reading and never writes it;
    /// MetaFSM keeps it because its node commands maintain it (docs/INFLUXDB.md).
    public var maxNodeID: UInt64 = 0
    /// Pre-0.10 nodes (field 4).
    public var nodes: [NodeInfo] = []
    /// Data nodes of the clustered store (field 10).
    public var dataNodes: [NodeInfo] = []
    /// Meta nodes of the clustered store (field 11).
    public var metaNodes: [NodeInfo] = []
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()

    /// The empty state: Term 0, Index 0, ClusterID 0, nothing else.
    public init() {}
}

/// A node of the clustered meta store (pre-0.10 `Nodes`, 0.11-1.x `DataNodes` / `MetaNodes`).
public struct NodeInfo: Equatable, Sendable {
    /// The id (never reused).
    public var id: UInt64
    /// HTTP address (host:port).
    public var host: String
    /// Optional field 3; nil when absent.
    public var tcpHost: String?
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(id: UInt64, host: String, tcpHost: String? = nil) {
        self.id = id
        self.host = host
        self.tcpHost = tcpHost
    }
}

/// One database: its policies (in creation order) and continuous queries.
public struct DatabaseInfo: Equatable, Sendable {
    /// The name (compared byte for byte, as Go does).
    public var name: String
    /// May name a policy that no longer exists (1.6.7 never clears it), or be "".
    public var defaultRetentionPolicy: String
    /// Retention policies in creation order.
    public var retentionPolicies: [RetentionPolicyInfo] = []
    /// Continuous queries in creation order.
    public var continuousQueries: [ContinuousQueryInfo] = []
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(name: String, defaultRetentionPolicy: String = "") {
        self.name = name
        self.defaultRetentionPolicy = defaultRetentionPolicy
    }
}

/// A retention policy. Durations are nanoseconds; `shardGroups` is kept sorted by
/// (effective end, start) as InfluxDB does after every creation.
public struct RetentionPolicyInfo: Equatable, Sendable {
    /// The name (compared byte for byte, as Go does).
    public var name: String
    /// How long data is kept, in ns; 0 = forever.
    public var duration: Int64
    /// Width of each shard group, in ns.
    public var shardGroupDuration: Int64
    /// Replication factor.
    public var replicaN: UInt32
    /// The shard groups. Setting this re-derives the search aid on next use.
    public var shardGroups: [ShardGroupInfo] {
        get { groups }
        set {
            groups = newValue
            order.invalidate()
        }
    }
    /// Storage of `shardGroups`; the apply code mutates it in place and keeps `order` right itself.
    var groups: [ShardGroupInfo] = []
    /// Subscriptions in creation order.
    public var subscriptions: [SubscriptionInfo] = []
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// Derived search aid for `shardGroups`; not part of the state and ignored by `==`.
    var order = ShardGroupOrder()

    /// A value with the given fields.
    public init(name: String, duration: Int64, shardGroupDuration: Int64, replicaN: UInt32) {
        self.name = name
        self.duration = duration
        self.shardGroupDuration = shardGroupDuration
        self.replicaN = replicaN
    }

    /// Equality of the stored fields (the derived search aid is ignored).
    public static func == (a: RetentionPolicyInfo, b: RetentionPolicyInfo) -> Bool {
        a.name == b.name && a.duration == b.duration && a.shardGroupDuration == b.shardGroupDuration
            && a.replicaN == b.replicaN && a.groups == b.groups && a.subscriptions == b.subscriptions
            && a.unknownFields == b.unknownFields
    }
}

/// A shard group: the half-open time range [startTime, endTime) in Unix nanoseconds.
/// `deletedAt` and `truncatedAt` are 0 when unset (1.6.7 reads 0 as "not deleted"/"not truncated").
public struct ShardGroupInfo: Equatable, Sendable {
    /// The id (never reused).
    public var id: UInt64
    /// First nanosecond covered (Unix ns).
    public var startTime: Int64
    /// First nanosecond no longer covered (Unix ns); capped at Int64.max.
    public var endTime: Int64
    /// When the group was marked deleted (Unix ns), 0 when it is not.
    public var deletedAt: Int64 = 0
    /// Shards of the group (one per group in 1.6.7).
    public var shards: [ShardInfo] = []
    /// When the group was truncated (Unix ns), 0 when it is not.
    public var truncatedAt: Int64 = 0
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()

    /// A value with the given fields.
    public init(id: UInt64, startTime: Int64, endTime: Int64, deletedAt: Int64 = 0, shards: [ShardInfo] = [],
                truncatedAt: Int64 = 0) {
        self.id = id
        self.startTime = startTime
        self.endTime = endTime
        self.deletedAt = deletedAt
        self.shards = shards
        self.truncatedAt = truncatedAt
    }

    /// Whether DeletedAt is set.
    @inlinable public var isDeleted: Bool { deletedAt != 0 }
    /// Whether TruncatedAt is set.
    @inlinable public var isTruncated: Bool { truncatedAt != 0 }
    /// The end InfluxDB sorts by: TruncatedAt when truncated, else EndTime.
    @inlinable public var effectiveEnd: Int64 { truncatedAt != 0 ? truncatedAt : endTime }

    /// InfluxDB's "covers t" test of CreateShardGroup: start <= t < end, not deleted, and t before the
    /// truncation time when truncated.
    @inlinable public func accepts(_ t: Int64) -> Bool {
        startTime <= t && t < endTime && deletedAt == 0 && (truncatedAt == 0 || t < truncatedAt)
    }
}

/// A shard and the node ids that own it (from `Owners`, or from the deprecated `OwnerIDs` when present).
public struct ShardInfo: Equatable, Sendable {
    /// The id (never reused).
    public var id: UInt64
    /// Ids of the nodes that own the shard (empty in 1.6.7).
    public var owners: [UInt64] = []
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(id: UInt64, owners: [UInt64] = []) {
        self.id = id
        self.owners = owners
    }
}

/// A subscription of a retention policy.
public struct SubscriptionInfo: Equatable, Sendable {
    /// The name (compared byte for byte, as Go does).
    public var name: String
    /// `ANY` or `ALL` (not validated).
    public var mode: String
    /// Destination URLs, validated when the subscription is created.
    public var destinations: [String]
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(name: String, mode: String, destinations: [String]) {
        self.name = name
        self.mode = mode
        self.destinations = destinations
    }
}

/// A continuous query, stored verbatim.
public struct ContinuousQueryInfo: Equatable, Sendable {
    /// The name (compared byte for byte, as Go does).
    public var name: String
    /// The query text, verbatim.
    public var query: String
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(name: String, query: String) {
        self.name = name
        self.query = query
    }
}

/// A user. `privileges` is a map in InfluxDB; here it is kept sorted by database name, one entry per
/// database, which is also the order written to meta.db.
public struct UserInfo: Equatable, Sendable {
    /// The name (compared byte for byte, as Go does).
    public var name: String
    /// Password hash, stored verbatim (bcrypt in 1.6.7).
    public var hash: String
    /// Whether the user may do everything.
    public var admin: Bool
    /// One entry per database, sorted by database name.
    public var privileges: [UserPrivilege] = []
    /// Fields this version does not know, kept and written back.
    public var unknownFields = UnknownFields()
    /// A value with the given fields.
    public init(name: String, hash: String, admin: Bool) {
        self.name = name
        self.hash = hash
        self.admin = admin
    }

    /// The stored privilege on `database`, or nil when there is no entry.
    public func privilege(on database: String) -> Int32? {
        let i = privilegeSlot(database)
        return i < privileges.count && privileges[i].database == database ? privileges[i].privilege : nil
    }

    /// Inserts or overwrites the entry for `database`, keeping the list sorted.
    public mutating func setPrivilege(_ p: Int32, on database: String) {
        let i = privilegeSlot(database)
        if i < privileges.count && privileges[i].database == database {
            privileges[i].privilege = p
        } else {
            privileges.insert(UserPrivilege(database: database, privilege: p), at: i)
        }
    }

    /// Removes the entry for `database`, if any.
    public mutating func removePrivilege(on database: String) {
        let i = privilegeSlot(database)
        if i < privileges.count && privileges[i].database == database { privileges.remove(at: i) }
    }

    /// First index whose database is not below `database` (byte order, as Go compares strings).
    func privilegeSlot(_ database: String) -> Int {
        var lo = 0
        var hi = privileges.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if byteLess(privileges[mid].database, database) { lo = mid + 1 } else { hi = mid }
        }
        return lo
    }
}

/// One privilege entry: 0 none, 1 read, 2 write, 3 all (any int32 is stored, as in 1.6.7).
public struct UserPrivilege: Equatable, Sendable {
    /// The database the privilege is on.
    public var database: String
    /// 0 none, 1 read, 2 write, 3 all (any value is stored).
    public var privilege: Int32
    /// A value with the given fields.
    public init(database: String, privilege: Int32) {
        self.database = database
        self.privilege = privilege
    }
}

/// Go's string order: bytewise on UTF-8. (Swift's `<` compares by Unicode scalars, which agrees for valid
/// UTF-8, but this avoids normalisation work.)
@inlinable func byteLess(_ a: String, _ b: String) -> Bool {
    var a = a
    var b = b
    return a.withUTF8 { x in
        b.withUTF8 { y in
            let n = min(x.count, y.count)
            if n > 0 {
                let c = memcmpBytes(x.baseAddress!, y.baseAddress!, n)
                if c != 0 { return c < 0 }
            }
            return x.count < y.count
        }
    }
}

@inlinable func memcmpBytes(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Int {
    for i in 0..<n where a[i] != b[i] { return a[i] < b[i] ? -1 : 1 }
    return 0
}
