// The InfluxDB meta state with its look-up indexes, and the read API hosts use.

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A database or user name compared and hashed as Go compares strings: by UTF-8 bytes (Swift's `==`
/// would treat canonically equivalent spellings as equal; InfluxDB does not).
struct NameKey: Hashable {
    let name: String
    init(_ name: String) { self.name = name }
    static func == (a: NameKey, b: NameKey) -> Bool { goEqual(a.name, b.name) }
    func hash(into h: inout Hasher) {
        if name.utf8.withContiguousStorageIfAvailable({ h.combine(bytes: UnsafeRawBufferPointer($0)) }) == nil {
            Array(name.utf8).withUnsafeBytes { h.combine(bytes: $0) }
        }
    }
}

/// Byte equality of two strings (Go's `==`).
@inline(__always) func goEqual(_ a: String, _ b: String) -> Bool {
    let n = a.utf8.count
    guard n == b.utf8.count else { return false }
    let fast = a.utf8.withContiguousStorageIfAvailable { x in
        b.utf8.withContiguousStorageIfAvailable { y in
            guard let p = x.baseAddress, let q = y.baseAddress else { return n == 0 }
            return memcmp(p, q, n) == 0
        }
    }
    if let f = fast, let equal = f { return equal }
    return a.utf8.elementsEqual(b.utf8)
}

/// The InfluxDB meta state plus indexes by name, applying commands in place.
///
/// Unlike InfluxDB, which deep-copies the whole `Data` before every change, a command here validates
/// first and then mutates only what it changes; a rejected command changes nothing.
/// Reads return values that share storage with the state (copy-on-write), never a deep copy.
public struct InfluxStore: Sendable {
    /// The state. Replace it only through ``replace(with:)`` so the indexes stay right.
    public internal(set) var data: InfluxData
    var databaseNames = NameIndex()
    var userNames = NameIndex()

    /// A store holding `data` (the empty state by default).
    public init(data: InfluxData = InfluxData()) {
        self.data = data
        reindex()
    }

    /// Replaces the whole state (SetData, restore from a snapshot or meta.db). O(n) to rebuild indexes.
    public mutating func replace(with data: InfluxData) {
        self.data = data
        reindex()
    }

    /// Sets the Term and Index of the last applied entry.
    public mutating func stamp(term: UInt64, index: UInt64) {
        data.term = term
        data.index = index
    }

    mutating func reindex() {
        databaseNames.rebuild(data.databases)
        userNames.rebuild(data.users)
    }

    // MARK: reads

    /// Position of the first database named `name` (InfluxDB's `Data.Database`). O(1) expected.
    public func databaseIndex(_ name: String) -> Int? { databaseNames.find(name, in: data.databases) }

    /// Position of the first user named `name`. O(1).
    public func userIndex(_ name: String) -> Int? { userNames.find(name, in: data.users) }

    /// The database named `name`, sharing storage with the state. O(1).
    public func database(_ name: String) -> DatabaseInfo? {
        databaseIndex(name).map { data.databases[$0] }
    }

    /// The user named `name`, sharing storage with the state. O(1).
    public func user(_ name: String) -> UserInfo? { userIndex(name).map { data.users[$0] } }

    /// The retention policy `name` of `database` by exact name (InfluxDB's `Data.RetentionPolicy`).
    /// O(number of policies of the database).
    public func retentionPolicy(database: String, name: String) -> RetentionPolicyInfo? {
        guard let d = databaseIndex(database) else { return nil }
        return data.databases[d].retentionPolicies.first { goEqual($0.name, name) }
    }

    /// The database's default policy, if its DefaultRetentionPolicy names one that exists.
    public func defaultRetentionPolicy(database: String) -> RetentionPolicyInfo? {
        guard let d = databaseIndex(database) else { return nil }
        let db = data.databases[d]
        return InfluxStore.resolvePolicy(db, "").map { db.retentionPolicies[$0] }
    }

    /// Shard groups of `database`/`policy` that are not deleted and may hold data in [min, max]
    /// (InfluxDB's `ShardGroupsByTimeRange`), in stored order; nil when the policy does not exist.
    public func shardGroups(database: String, policy: String, from min: Int64, to max: Int64) -> [ShardGroupInfo]? {
        retentionPolicy(database: database, name: policy)?.shardGroups(overlappingFrom: min, to: max)
    }

    /// The shard group that new writes at `t` go to in `database`/`policy` (InfluxDB's
    /// `ShardGroupByTimestamp`: covers t, not deleted, t before any truncation), or nil. O(log n).
    public func shardGroup(database: String, policy: String, containing t: Int64) -> ShardGroupInfo? {
        retentionPolicy(database: database, name: policy)?.shardGroup(containing: t)
    }

    /// Whether `user` may perform an action needing `privilege` (0 none, 1 read, 2 write, 3 all) on
    /// `database`: InfluxDB's `AuthorizeDatabase`. False for an unknown user.
    public func authorize(user: String, privilege: Int32, database: String) -> Bool {
        guard let u = self.user(user) else { return false }
        if u.admin || privilege == 0 { return true }
        guard let p = u.privilege(on: database) else { return false }
        return p == privilege || p == 3
    }

    /// Index of the policy InfluxDB's `DatabaseInfo.RetentionPolicy(name)` finds: "" means the default
    /// policy (none when DefaultRetentionPolicy is ""), otherwise the first policy with exactly that name.
    static func resolvePolicy(_ db: DatabaseInfo, _ name: String) -> Int? {
        let n = name.isEmpty ? db.defaultRetentionPolicy : name
        if n.isEmpty { return nil }
        return db.retentionPolicies.firstIndex { goEqual($0.name, n) }
    }

    /// Index of the first policy named exactly `name` ("" matches only a policy named "").
    static func exactPolicy(_ db: DatabaseInfo, _ name: String) -> Int? {
        db.retentionPolicies.firstIndex { goEqual($0.name, name) }
    }
}
