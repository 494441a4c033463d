// A deterministic synthetic command stream for benchmarks (Bench `influx-apply`, `metactl influx
// generate`): a meta store with thousands of shard groups under steady traffic that is mostly
// CreateShardGroup and privilege changes. The same file can be replayed by the conformance oracle, so both
// implementations are timed on identical work.

/// Generates the benchmark stream. Deterministic for a given (commands, seed).
public enum InfluxWorkloadGenerator {
    /// Databases, each with `autogen` (7-day groups) and `daily` (1-day groups).
    public static let databases = 5
    /// Users created up front.
    public static let users = 100
    /// Shard groups are pre-created over this many days, then traffic hits random times in the range.
    public static let days = 730

    /// `commands` commands: set-up (databases, policies, users, about 4,200 shard groups), then a mix of
    /// 55% CreateShardGroup (0.5% of them past the covered range, so new groups keep appearing),
    /// 30% SetPrivilege, 4% DeleteShardGroup, 4% SetAdminPrivilege/UpdateUser, 3% CreateUser/DropUser,
    /// 2% CreateContinuousQuery/DropContinuousQuery, 2% commands InfluxDB rejects.
    public static func stream(commands: Int, seed: UInt64 = 1) -> [InfluxCommand] {
        var g = Generator(seed: seed)
        var out: [InfluxCommand] = []
        out.reserveCapacity(commands)
        let day: Int64 = 86_400_000_000_000
        let base: Int64 = 1_546_300_800 * 1_000_000_000  // 2019-01-01
        var store = InfluxStore()
        func emit(_ c: InfluxCommand) {
            guard out.count < commands else { return }
            _ = store.apply(c, now: Int64(out.count))
            out.append(c)
        }
        for d in 0..<databases {
            emit(.createDatabase(name: "db\(d)", retentionPolicy: nil))
            emit(.createRetentionPolicy(
                database: "db\(d)",
                retentionPolicy: RetentionPolicyInfo(name: "daily", duration: 0, shardGroupDuration: day, replicaN: 1)))
        }
        for u in 0..<users { emit(.createUser(name: "user\(u)", hash: g.hash(), admin: u == 0)) }
        for d in 0..<databases {
            for t in stride(from: 0, to: days, by: 7) {
                emit(.createShardGroup(database: "db\(d)", policy: "autogen", timestamp: base + Int64(t) * day))
            }
            for t in 0..<days {
                emit(.createShardGroup(database: "db\(d)", policy: "daily", timestamp: base + Int64(t) * day))
            }
        }
        var extraUser = 0
        while out.count < commands {
            let db = "db\(g.below(databases))"
            let x = g.below(1000)
            switch x {
            case 0..<550:
                let policy = g.below(2) == 0 ? "autogen" : "daily"
                var t = base + Int64(g.below(UInt64(days) * 86_400)) * 1_000_000_000
                if g.below(200) == 0 { t = base + Int64(days) * day + Int64(g.below(3650)) * day }
                emit(.createShardGroup(database: db, policy: policy, timestamp: t))
            case 550..<850:
                emit(.setPrivilege(username: "user\(g.below(users))", database: db, privilege: Int32(g.below(4))))
            case 850..<890:
                let policy = g.below(2) == 0 ? "autogen" : "daily"
                let groups = store.retentionPolicy(database: db, name: policy)?.shardGroups ?? []
                let id = groups.isEmpty ? 1 : groups[Int(g.below(UInt64(groups.count)))].id
                emit(.deleteShardGroup(database: db, policy: policy, shardGroupID: id))
            case 890..<910: emit(.setAdminPrivilege(username: "user\(g.below(users))", admin: g.below(10) == 0))
            case 910..<930: emit(.updateUser(name: "user\(g.below(users))", hash: g.hash()))
            case 930..<945:
                extraUser += 1
                emit(.createUser(name: "temp\(extraUser)", hash: g.hash(), admin: false))
            case 945..<960: emit(.dropUser(name: "temp\(g.below(UInt64(extraUser + 1)))"))
            case 960..<970:
                let name = "cq\(g.below(5))"
                emit(.createContinuousQuery(
                    database: db, name: name,
                    query: "CREATE CONTINUOUS QUERY \"\(name)\" ON \"\(db)\" BEGIN SELECT mean(value) INTO m FROM cpu GROUP BY time(1h) END"))
            case 970..<980: emit(.dropContinuousQuery(database: db, name: "cq\(g.below(5))"))
            case 980..<990:
                emit(.createShardGroup(database: "missing", policy: "autogen", timestamp: base))
            default:
                emit(.setPrivilege(username: "nobody", database: db, privilege: 1))
            }
        }
        return out
    }

    /// splitmix64.
    struct Generator {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ n: UInt64) -> UInt64 { next() % n }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
        /// A bcrypt-shaped string (the state machine stores hashes verbatim).
        mutating func hash() -> String {
            let alpha = Array("./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
            var b = Array("$2a$10$".utf8)
            for _ in 0..<53 { b.append(alpha[Int(next() % UInt64(alpha.count))]) }
            return String(decoding: b, as: UTF8.self)
        }
    }
}
