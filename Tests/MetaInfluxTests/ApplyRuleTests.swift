import XCTest

@testable import MetaInflux
import MetaFSM

/// InfluxDB 1.6.7 rules of spec section 4 that deserve a test of their own.
final class ApplyRuleTests: XCTestCase {
    let hour: Int64 = 3_600_000_000_000
    var day: Int64 { 24 * hour }

    func store(_ commands: [InfluxCommand], now: Int64 = 0) -> (InfluxStore, [InfluxError?]) {
        var s = InfluxStore()
        let r = commands.map { s.apply($0, now: now) }
        return (s, r)
    }

    func testSevenDayGroupsStartOnMondays() {
        // 2019-06-05 (a Wednesday) 12:00 UTC; its 7-day group starts Monday 2019-06-03 00:00 UTC.
        let t: Int64 = 1_559_736_000 * 1_000_000_000
        let (s, r) = store([.createDatabase(name: "db", retentionPolicy: nil),
                            .createShardGroup(database: "db", policy: "autogen", timestamp: t)])
        XCTAssertEqual(r.compactMap { $0 }, [])
        let g = s.data.databases[0].retentionPolicies[0].shardGroups[0]
        XCTAssertEqual(g.startTime, 1_559_520_000 * 1_000_000_000)
        XCTAssertEqual(g.endTime, g.startTime + 7 * day)
        XCTAssertEqual(g.shards, [ShardInfo(id: 1)])
        XCTAssertEqual(s.data.maxShardGroupID, 1)
        XCTAssertEqual(s.data.maxShardID, 1)
    }

    func testRangeArithmetic() {
        // Before 1970 truncates down too.
        XCTAssertEqual(influxShardGroupRange(timestamp: -1, duration: hour).start, -hour)
        // Near the end of time the end is capped at MaxNanoTime + 1.
        let t = Int64.max - 5
        let r = influxShardGroupRange(timestamp: t, duration: 7 * day)
        XCTAssertEqual(r.end, Int64.max)
        XCTAssertTrue(r.start <= t && t - r.start < 7 * day)
        XCTAssertEqual((Int128(r.start) + Int128(62_135_596_800) * 1_000_000_000) % Int128(7 * day), 0)
        // 25h groups align on multiples of 25h counted from year 1, not from 1970.
        let y1ToEpochHours: Int64 = 719_162 * 24
        let s25 = influxShardGroupRange(timestamp: 0, duration: 25 * hour).start
        XCTAssertEqual(s25, -((y1ToEpochHours % 25) * hour))
        // Non-positive durations (only via SetData) keep t as the start.
        XCTAssertEqual(influxShardGroupRange(timestamp: 77, duration: 0).start, 77)
    }

    func testRejectedCreateDatabaseLeavesNothingBehind() {
        let bad = RetentionPolicyInfo(name: "rp", duration: 2 * hour, shardGroupDuration: 0, replicaN: 0)
        let (s, r) = store([.createDatabase(name: "new", retentionPolicy: bad)])
        XCTAssertEqual(r, [.replicationFactorTooLow])
        XCTAssertTrue(s.data.databases.isEmpty)
        XCTAssertNil(s.database("new"))
    }

    func testDeletedGroupsAreReplacedNotReused() {
        let t: Int64 = 1_600_000_000 * 1_000_000_000
        var s = InfluxStore()
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        _ = s.apply(.createShardGroup(database: "db", policy: "autogen", timestamp: t), now: 0)
        XCTAssertNil(s.apply(.deleteShardGroup(database: "db", policy: "autogen", shardGroupID: 1), now: 42))
        XCTAssertNil(s.apply(.createShardGroup(database: "db", policy: "autogen", timestamp: t), now: 0))
        let groups = s.data.databases[0].retentionPolicies[0].shardGroups
        XCTAssertEqual(groups.map(\.id), [1, 2])
        XCTAssertEqual(groups.map(\.deletedAt), [42, 0])
        XCTAssertEqual(s.apply(.deleteShardGroup(database: "db", policy: "autogen", shardGroupID: 9), now: 1),
                       .shardGroupNotFound)
        // Dropping the only shard of group 2 stamps it deleted.
        s.apply(.dropShard(id: 2), now: 99).map { XCTFail("\($0)") }
        XCTAssertEqual(s.data.databases[0].retentionPolicies[0].shardGroups[1].deletedAt, 99)
        XCTAssertEqual(s.data.databases[0].retentionPolicies[0].shardGroups[1].shards, [])
    }

    func testLookupsExactVersusDefaultResolving() {
        var s = InfluxStore()
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        XCTAssertEqual(s.apply(.createShardGroup(database: "db", policy: "", timestamp: 0), now: 0),
                       .retentionPolicyNotFound(""))
        XCTAssertNil(s.apply(.updateRetentionPolicy(database: "db", name: "", newName: "renamed", duration: nil,
                                                    replicaN: 0), now: 0))
        let db = s.database("db")
        XCTAssertEqual(db?.retentionPolicies.map(\.name), ["renamed"])
        XCTAssertEqual(db?.retentionPolicies.first?.replicaN, 0)  // not validated, as in 1.6.7
        XCTAssertEqual(db?.defaultRetentionPolicy, "autogen")  // left dangling
        XCTAssertEqual(s.apply(.setDefaultRetentionPolicy(database: "db", name: ""), now: 0),
                       .retentionPolicyNotFound(""))
        XCTAssertEqual(s.apply(.setDefaultRetentionPolicy(database: "nope", name: "x"), now: 0),
                       .databaseNotFound("nope"))
    }

    func testErrorOrderForRetentionPolicies() {
        var s = InfluxStore()
        func rp(_ name: String, _ d: Int64, _ sgd: Int64, _ n: UInt32) -> RetentionPolicyInfo {
            RetentionPolicyInfo(name: name, duration: d, shardGroupDuration: sgd, replicaN: n)
        }
        // Duration check comes before the database lookup.
        XCTAssertEqual(s.apply(.createRetentionPolicy(database: "none", retentionPolicy: rp("x", hour / 2, 0, 1)), now: 0),
                       .retentionPolicyDurationTooLow)
        XCTAssertEqual(s.apply(.createRetentionPolicy(database: "none", retentionPolicy: rp("", hour, 0, 1)), now: 0),
                       .retentionPolicyNameRequired)
        XCTAssertEqual(s.apply(.createRetentionPolicy(database: "none", retentionPolicy: rp("x", hour, 2 * hour, 1)), now: 0),
                       .incompatibleDurations)
        XCTAssertEqual(s.apply(.createRetentionPolicy(database: "none", retentionPolicy: rp("x", hour, 0, 1)), now: 0),
                       .databaseNotFound("none"))
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        XCTAssertNil(s.apply(.createRetentionPolicy(database: "db", retentionPolicy: rp("x", 3 * day, 0, 1)), now: 0))
        XCTAssertEqual(s.retentionPolicy(database: "db", name: "x")?.shardGroupDuration, day)
        // Same spec again: accepted, no change; a different one: exists.
        XCTAssertNil(s.apply(.createRetentionPolicy(database: "db", retentionPolicy: rp("x", 3 * day, day, 1)), now: 0))
        XCTAssertEqual(s.apply(.createRetentionPolicy(database: "db", retentionPolicy: rp("x", 3 * day, 0, 2)), now: 0),
                       .retentionPolicyExists)
        XCTAssertEqual(s.apply(.createDatabase(name: "db", retentionPolicy: rp("x", 3 * day, 0, 1)), now: 0),
                       .retentionPolicyConflict)  // matches, but is not the default
        XCTAssertNil(s.apply(.setDefaultRetentionPolicy(database: "db", name: "x"), now: 0))
        XCTAssertNil(s.apply(.createDatabase(name: "db", retentionPolicy: rp("x", 3 * day, 0, 1)), now: 0))
        XCTAssertEqual(s.apply(.updateRetentionPolicy(database: "db", name: "x", newName: "autogen", duration: nil,
                                                      replicaN: nil), now: 0), .retentionPolicyNameExists)
    }

    func testUsersPrivilegesAndDropDatabase() {
        var s = InfluxStore()
        XCTAssertEqual(s.apply(.createUser(name: "", hash: "h", admin: false), now: 0), .usernameRequired)
        XCTAssertNil(s.apply(.createUser(name: "bob", hash: "h", admin: false), now: 0))
        XCTAssertEqual(s.apply(.createUser(name: "bob", hash: "other", admin: true), now: 0), .userExists)
        XCTAssertEqual(s.apply(.setPrivilege(username: "amy", database: "nope", privilege: 1), now: 0), .userNotFound)
        XCTAssertEqual(s.apply(.setPrivilege(username: "bob", database: "db", privilege: 1), now: 0),
                       .databaseNotFound("db"))
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        XCTAssertNil(s.apply(.setPrivilege(username: "bob", database: "db", privilege: 0), now: 0))
        XCTAssertEqual(s.user("bob")?.privilege(on: "db"), 0)  // 0 keeps an entry
        XCTAssertTrue(s.authorize(user: "bob", privilege: 0, database: "db"))
        XCTAssertFalse(s.authorize(user: "bob", privilege: 1, database: "db"))
        _ = s.apply(.setPrivilege(username: "bob", database: "db", privilege: 3), now: 0)
        XCTAssertTrue(s.authorize(user: "bob", privilege: 2, database: "db"))
        _ = s.apply(.dropDatabase(name: "db"), now: 0)
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        XCTAssertNil(s.user("bob")?.privilege(on: "db"))  // not restored
        XCTAssertNil(s.apply(.dropUser(name: "bob"), now: 0))
        XCTAssertEqual(s.apply(.dropUser(name: "bob"), now: 0), .userNotFound)
        XCTAssertNil(s.user("bob"))
    }

    func testContinuousQueriesCompareCaseInsensitively() {
        var s = InfluxStore()
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        XCTAssertNil(s.apply(.createContinuousQuery(database: "db", name: "c", query: "Select 1"), now: 0))
        XCTAssertNil(s.apply(.createContinuousQuery(database: "db", name: "c", query: "SELECT 1"), now: 0))
        XCTAssertEqual(s.database("db")?.continuousQueries.map(\.query), ["Select 1"])
        XCTAssertEqual(s.apply(.createContinuousQuery(database: "db", name: "c", query: "SELECT 2"), now: 0),
                       .continuousQueryExists)
    }

    func testSubscriptionURLsAsGoParsesThem() {
        for good in ["udp://10.0.0.5:9100", "http://kapacitor:9092", "https://kapacitor.example:9093",
                     "udp://[::1]:8089", "HTTP://h:1", "http://user:pw@h:1/path?q#frag", "http://h:1?"] {
            XCTAssertTrue(isValidSubscriptionURL(good), good)
        }
        for bad in ["ftp://host:21", "http://no-port-host", "udp://host:", "tcp://host:1234", "kapacitor:9092",
                    "http://%zz:1", "http://h:1/%zz", "http://h:1#%zz", "http://[::1]", "http://[::1]:x",
                    "http://h:1:2", "http://h\n:1", "http:h:1", "", "http://a b:1", "http://h:1%41"] {
            XCTAssertFalse(isValidSubscriptionURL(bad), bad)
        }
        var s = InfluxStore()
        XCTAssertEqual(s.apply(.createSubscription(name: "s", database: "nope", retentionPolicy: "rp", mode: "ANY",
                                                   destinations: ["udp://a:1", "ftp://b:2"]), now: 0),
                       .invalidSubscriptionURL("ftp://b:2"))
    }

    func testNodeCommandsOfTheClusteredEra() {
        var s = InfluxStore()
        XCTAssertNil(s.apply(.createMetaNode(httpAddr: "m1:8091", tcpAddr: "m1:8089", rand: 77), now: 0))
        XCTAssertEqual(s.data.clusterID, 77)
        XCTAssertEqual(s.apply(.createMetaNode(httpAddr: "m1:8091", tcpAddr: "x", rand: 1), now: 0), .nodeExists)
        XCTAssertNil(s.apply(.createDataNode(httpAddr: "d1:8086", tcpAddr: "d1:8088"), now: 0))
        XCTAssertEqual(s.data.dataNodes, [NodeInfo(id: 2, host: "d1:8086", tcpHost: "d1:8088")])
        XCTAssertNil(s.apply(.updateDataNode(id: 2, host: "d2:8086", tcpHost: "d2:8088"), now: 0))
        XCTAssertEqual(s.apply(.updateDataNode(id: 9, host: "a", tcpHost: "b"), now: 0), .nodeNotFound)
        XCTAssertNil(s.apply(.setMetaNode(httpAddr: "m9:8091", tcpAddr: "m9:8089", rand: 5), now: 0))
        XCTAssertEqual(s.data.metaNodes.map(\.host), ["m9:8091"])
        XCTAssertEqual(s.data.clusterID, 77)
        XCTAssertNil(s.apply(.removePeer(id: 1, addr: "m9:8089"), now: 0))
        XCTAssertNil(s.apply(.deleteMetaNode(id: 1), now: 0))
        XCTAssertEqual(s.apply(.deleteMetaNode(id: 1), now: 0), .nodeNotFound)
        // Legacy nodes, and a shard owned by one node alone in a ReplicaN 1 policy.
        XCTAssertNil(s.apply(.createNode(host: "n1", rand: 3), now: 0))
        XCTAssertEqual(s.apply(.createNode(host: "n1", rand: 3), now: 0), .nodeExists)
        var d = s.data
        var db = DatabaseInfo(name: "db", defaultRetentionPolicy: "rp")
        var rp = RetentionPolicyInfo(name: "rp", duration: 0, shardGroupDuration: 7 * day, replicaN: 1)
        rp.shardGroups = [ShardGroupInfo(id: 1, startTime: 0, endTime: 7 * day, shards: [ShardInfo(id: 1, owners: [3])])]
        db.retentionPolicies = [rp]
        d.databases = [db]
        XCTAssertNil(s.apply(.setData(d), now: 0))
        XCTAssertEqual(s.apply(.deleteNode(id: 3, force: false), now: 0), .shardNotReplicated)
        XCTAssertNil(s.apply(.deleteNode(id: 3, force: true), now: 0))
        XCTAssertEqual(s.data.databases[0].retentionPolicies[0].shardGroups[0].shards[0].owners, [])
        XCTAssertTrue(s.data.nodes.isEmpty)
        XCTAssertEqual(s.apply(.deleteNode(id: 0, force: true), now: 0), .nodeIDRequired)
        // Node state survives meta.db encoding (1.6.7 readers ignore it).
        XCTAssertEqual(try InfluxData(metaDB: s.data.metaDBBytes()), s.data)
    }

    func testTimeRangeReadsSkipDeletedGroups() throws {
        var s = InfluxStore()
        _ = s.apply(.createDatabase(name: "db", retentionPolicy: nil), now: 0)
        for w in 0..<5 { _ = s.apply(.createShardGroup(database: "db", policy: "autogen", timestamp: Int64(w) * 7 * day), now: 0) }
        _ = s.apply(.deleteShardGroup(database: "db", policy: "autogen", shardGroupID: 3), now: 5)
        let all = s.data.databases[0].retentionPolicies[0].shardGroups
        let hits = s.shardGroups(database: "db", policy: "autogen", from: all[1].startTime, to: all[3].startTime)
        XCTAssertEqual(hits?.map(\.id), [2, 4])
        XCTAssertNil(s.shardGroups(database: "db", policy: "nope", from: 0, to: 1))
        XCTAssertEqual(s.shardGroup(database: "db", policy: "autogen", containing: all[1].startTime + 5)?.id, 2)
        XCTAssertNil(s.shardGroup(database: "db", policy: "autogen", containing: all[2].startTime))  // deleted
        // The same answers on a state loaded from bytes (no search aid yet) as on the live one.
        let loaded = InfluxStore(data: try InfluxData(metaDB: s.data.metaDBBytes()))
        for g in all {
            XCTAssertEqual(loaded.shardGroup(database: "db", policy: "autogen", containing: g.startTime)?.id,
                           s.shardGroup(database: "db", policy: "autogen", containing: g.startTime)?.id)
        }
    }
}
