import Foundation
import XCTest

/// `metactl snapshot inspect` on files that are not MetaEngine snapshots: the real InfluxDB meta.db fixtures
/// (Fixtures/influxdb, written by InfluxDB 1.6.7's own code) are summarised, and every count shown is compared
/// with the same count taken from the fixture's canonical JSON; a file that is neither format is refused
/// with both reasons.
final class SnapshotInspectMetaDBTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    private func fixture(_ name: String) -> String { Self.fixtures.appendingPathComponent(name).path }

    /// Every meta.db in Fixtures/influxdb with its canonical JSON: the meta-NN.db files and the cases' data.pb.
    private func metaDBFixtures() throws -> [(db: String, json: String)] {
        let dir = Self.fixtures.appendingPathComponent("influxdb")
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        var out: [(String, String)] = []
        for n in names where n.hasSuffix(".db") || n.hasSuffix(".data.pb") {
            let json = n.hasSuffix(".db") ? n + ".json" : String(n.dropLast(".pb".count)) + ".json"
            out.append((dir.appendingPathComponent(n).path, dir.appendingPathComponent(json).path))
        }
        return out
    }

    /// The summary `inspect --json` should print, computed from a fixture's canonical JSON (InfluxDB's own
    /// rendering of the state), in the same shape so the two can be compared whole.
    private func expectedSummary(file: String, canonicalJSON path: String) throws -> NSDictionary {
        let d = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
        func u64(_ v: Any?) throws -> UInt64 { try XCTUnwrap(UInt64(try XCTUnwrap(v as? String))) }
        func i64(_ v: Any?) throws -> Int64 { try XCTUnwrap(Int64(try XCTUnwrap(v as? String))) }
        var totals = (policies: 0, groups: 0, deleted: 0, shards: 0, cqs: 0, subs: 0)
        let databases: [[String: Any]] = try JSON.objects(d["Databases"]).map { db in
            let defaultRP = try XCTUnwrap(db["DefaultRetentionPolicy"] as? String)
            let policies: [[String: Any]] = try JSON.objects(db["RetentionPolicies"]).map { rp in
                let groups = JSON.objects(rp["ShardGroups"])
                let deleted = groups.filter { $0["DeletedAt"] as? String != "0" }.count
                let shards = groups.reduce(0) { $0 + JSON.objects($1["Shards"]).count }
                let subs = JSON.objects(rp["Subscriptions"]).count
                let name = try XCTUnwrap(rp["Name"] as? String)
                totals.policies += 1
                totals.groups += groups.count
                totals.deleted += deleted
                totals.shards += shards
                totals.subs += subs
                return [
                    "name": name, "default": name == defaultRP, "duration_ns": try i64(rp["Duration"]),
                    "duration": goDurationHours(try i64(rp["Duration"])),
                    "shard_group_duration_ns": try i64(rp["ShardGroupDuration"]),
                    "shard_group_duration": goDurationHours(try i64(rp["ShardGroupDuration"])),
                    "replica_n": try XCTUnwrap(JSON.int(rp["ReplicaN"])), "shard_groups": groups.count,
                    "deleted_shard_groups": deleted, "shards": shards, "subscriptions": subs,
                ]
            }
            let cqs = JSON.objects(db["ContinuousQueries"]).count
            totals.cqs += cqs
            return [
                "name": try XCTUnwrap(db["Name"] as? String), "default_retention_policy": defaultRP,
                "continuous_queries": cqs, "retention_policies": policies,
            ]
        }
        let users: [[String: Any]] = try JSON.objects(d["Users"]).map { u in
            [
                "name": try XCTUnwrap(u["Name"] as? String), "admin": try XCTUnwrap(u["Admin"] as? Bool),
                "privileges": JSON.objects(u["Privileges"]).count,
            ]
        }
        return [
            "file": file, "format": "influxdb-meta.db", "ok": true, "term": try u64(d["Term"]),
            "index": try u64(d["Index"]), "cluster_id": try XCTUnwrap(d["ClusterID"] as? String),
            "max_shard_group_id": try u64(d["MaxShardGroupID"]), "max_shard_id": try u64(d["MaxShardID"]),
            "databases": databases, "users": users, "retention_policy_count": totals.policies,
            "shard_group_count": totals.groups, "deleted_shard_group_count": totals.deleted,
            "shard_count": totals.shards, "continuous_queries": totals.cqs, "subscriptions": totals.subs,
        ] as NSDictionary
    }

    /// Go's `time.Duration.String` for whole hours (every retention duration in the fixtures is one).
    private func goDurationHours(_ ns: Int64) -> String {
        let hour: Int64 = 3_600_000_000_000
        if ns == 0 { return "0s" }
        XCTAssertEqual(ns % hour, 0, "fixture duration \(ns) is not whole hours")
        return "\(ns / hour)h0m0s"
    }

    func testEveryMetaDBFixtureIsSummarisedWithTheCountsOfItsCanonicalJSON() throws {
        let fixtures = try metaDBFixtures()
        XCTAssertEqual(fixtures.filter { $0.db.hasSuffix(".db") }.count, 3, "meta-01..03.db")
        XCTAssertGreaterThanOrEqual(fixtures.count, 33)
        for f in fixtures {
            let shown = try Metactl.json(["snapshot", "inspect", f.db, "--json"]) as NSDictionary
            XCTAssertEqual(shown, try expectedSummary(file: f.db, canonicalJSON: f.json), f.db)
        }
    }

    func testMeta01ShowsItsDatabasesPoliciesAndShardGroupsExactly() throws {
        let file = fixture("influxdb/meta-01.db")
        let shown = try Metactl.json(["snapshot", "inspect", file, "--json"])
        XCTAssertEqual(shown["format"] as? String, "influxdb-meta.db")
        XCTAssertEqual(JSON.uint64(shown["term"]), 1)
        XCTAssertEqual(JSON.uint64(shown["index"]), 258)
        XCTAssertEqual(shown["cluster_id"] as? String, "0")
        let dbs = JSON.objects(shown["databases"])
        XCTAssertEqual(dbs.map { $0["name"] as? String }, ["telegraf", "app_prod", "iot", "tenant_1", "tenant_2"])
        let policies = dbs.map { JSON.objects($0["retention_policies"]) }
        XCTAssertEqual(
            policies.map { $0.map { "\($0["name"] as? String ?? "?")=\(JSON.int($0["shard_groups"]) ?? -1)" } },
            [["autogen=42", "one_year=23"], ["two_weeks=40", "downsampled=3"], ["autogen=0", "raw_48h=89"],
             ["autogen=7"], ["autogen=10"]])
        XCTAssertEqual(policies.map { $0.filter { $0["default"] as? Bool == true }.map { $0["name"] as? String } },
                       [["autogen"], ["two_weeks"], ["raw_48h"], ["autogen"], ["autogen"]])
        XCTAssertEqual(JSON.int(shown["shard_group_count"]), 214)
        XCTAssertEqual(JSON.int(shown["deleted_shard_group_count"]), 9)
        XCTAssertEqual(JSON.int(shown["shard_count"]), 211)
        XCTAssertEqual(JSON.objects(shown["users"]).map { $0["name"] as? String },
                       ["admin", "grafana", "telegraf", "alice", "bob", "ci-bot"])
        XCTAssertEqual(JSON.int(shown["continuous_queries"]), 5)
        XCTAssertEqual(JSON.int(shown["subscriptions"]), 2)

        // The text report: totals, then one line per database, policy and user.
        let text = try Metactl.run(["snapshot", "inspect", file], expect: 0)
        let lines = text.lines
        XCTAssertEqual(Array(lines.prefix(9)), [
            "file: \(file)",
            "format: influxdb-meta.db (InfluxDB 1.x meta store, protobuf meta.Data; not a MetaEngine snapshot)",
            "term: 1", "index: 258", "cluster id: 0", "max shard group id: 214", "max shard id: 214",
            "databases: 5, retention policies: 8, shard groups: 214 (9 deleted), shards: 211",
            "users: 6, continuous queries: 5, subscriptions: 2",
        ])
        XCTAssertTrue(lines.contains(
            "database \"telegraf\": default policy \"autogen\", 2 retention policies, 2 continuous queries"), text.stdout)
        XCTAssertTrue(lines.contains(
            "  policy \"autogen\" (default): duration 0s (infinite), shard group duration 168h0m0s, replicaN 1, "
                + "42 shard groups (3 deleted), 39 shards, 1 subscriptions"), text.stdout)
        XCTAssertTrue(lines.contains(
            "  policy \"raw_48h\" (default): duration 48h0m0s, shard group duration 1h0m0s, replicaN 1, "
                + "89 shard groups (6 deleted), 89 shards, 0 subscriptions"), text.stdout)
        XCTAssertTrue(lines.contains("user \"admin\": admin, 0 privileges"), text.stdout)
        XCTAssertTrue(lines.contains("user \"ci-bot\": not admin, 3 privileges"), text.stdout)
        XCTAssertEqual(lines.last, "status: ok")
        XCTAssertEqual(text.stderr, "")
    }

    func testTwelveByteMetaDBShorterThanASnapshotHeaderIsRecognised() throws {
        // An empty state's meta.db is 12 bytes: too short for a snapshot header, still a valid meta.db.
        let file = fixture("influxdb/case-000.data.pb")
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: file)).count, 12)
        let shown = try Metactl.json(["snapshot", "inspect", file, "--json"])
        XCTAssertEqual(shown["format"] as? String, "influxdb-meta.db")
        XCTAssertEqual(JSON.uint64(shown["index"]), 1)
        XCTAssertEqual(JSON.objects(shown["databases"]).count, 0)
    }

    func testGarbageIsRefusedWithBothReasons() throws {
        let dir = try ScratchDirectory("inspect-garbage")
        defer { dir.remove() }
        let file = try dir.file("garbage.bin", Data("not a snapshot\n".utf8))

        let text = try Metactl.run(["snapshot", "inspect", file], expect: 1)
        XCTAssertEqual(text.stdout, "")
        XCTAssertEqual(text.stderr, """
            \(file): neither a MetaEngine snapshot nor an InfluxDB meta.db. Tried: (1) MetaEngine snapshot: \
            snapshot magic mismatch at offset 0: expected "MSNAPSHT" (4d534e4150534854), found 6e6f74206120736e; \
            (2) InfluxDB meta.db (protobuf meta.Data): malformed Data at byte 1: wire type 6 is not valid

            """)

        let shown = try Metactl.json(["snapshot", "inspect", file, "--json"], expect: 1)
        XCTAssertEqual(shown["ok"] as? Bool, false)
        let tried = JSON.objects(shown["tried"])
        XCTAssertEqual(tried.map { $0["format"] as? String }, ["metaengine-snapshot", "influxdb-meta.db"])
        // "n" (0x6e) is a tag with wire type 6, which protobuf does not define; the decoder names byte 1.
        XCTAssertEqual(tried.map { JSON.int($0["offset"]) }, [0, 1])
        XCTAssertEqual(tried.last?["error"] as? String, "malformed Data at byte 1: wire type 6 is not valid")
    }

    func testMetaDBCutShortNamesTheDecoderOffset() throws {
        let whole = try Data(contentsOf: URL(fileURLWithPath: fixture("influxdb/meta-01.db")))
        let dir = try ScratchDirectory("inspect-cut")
        defer { dir.remove() }
        let file = try dir.file("cut.db", whole.prefix(100))
        let shown = try Metactl.json(["snapshot", "inspect", file, "--json"], expect: 1)
        let tried = JSON.objects(shown["tried"])
        XCTAssertEqual(tried.first?["error"] as? String,
                       "snapshot magic mismatch at offset 0: expected \"MSNAPSHT\" (4d534e4150534854), found 080110820218002a")
        // Term 1 (08 01), Index 258 (10 82 02), ClusterID 0 (18 00), then database 1 (tag 2a at byte 7) whose
        // length varint at byte 8 claims 2425 bytes where 90 are left.
        XCTAssertEqual(tried.last?["error"] as? String,
                       "malformed Data at byte 8: length 2425 runs past the end of the message (90 bytes left)")
        XCTAssertEqual(JSON.int(tried.last?["offset"]), 8)
    }

    func testEmptyFileIsRefusedAsEither() throws {
        let dir = try ScratchDirectory("inspect-empty")
        defer { dir.remove() }
        let file = try dir.file("empty", Data())
        let result = try Metactl.run(["snapshot", "inspect", file], expect: 1)
        XCTAssertEqual(result.stderr, """
            \(file): neither a MetaEngine snapshot nor an InfluxDB meta.db. Tried: (1) MetaEngine snapshot: \
            the file is empty; a snapshot starts with magic "MSNAPSHT" at offset 0; (2) InfluxDB meta.db \
            (protobuf meta.Data): Data at byte 0: required field "Term" not set (proto2 needs it; InfluxDB \
            refuses such data)

            """)
    }

    func testSnapshotsAreStillInspectedAsSnapshots() throws {
        let good = try Metactl.json(["snapshot", "inspect", fixture("snapshots/records.msnap"), "--json"])
        XCTAssertEqual(good["format"] as? String, "1.1")
        XCTAssertEqual(JSON.int(good["chunk_count"]), 5)
        XCTAssertEqual(good["ok"] as? Bool, true)
        // A damaged snapshot keeps the snapshot reader's own error, not the neither-format one.
        let cut = fixture("snapshots/truncated.msnap")
        let damaged = try Metactl.run(["snapshot", "inspect", cut], expect: 1)
        XCTAssertEqual(damaged.stderr, "\(cut): bad footer end magic at offset 11992; the file is truncated, "
                       + "incomplete, damaged or not a MetaSnapshot file\n")
        // So does a file holding only the first bytes of the magic.
        let dir = try ScratchDirectory("inspect-prefix")
        defer { dir.remove() }
        let prefix = try dir.file("prefix", Data("MSNAP".utf8))
        let short = try Metactl.run(["snapshot", "inspect", prefix], expect: 1)
        XCTAssertEqual(short.stderr, "\(prefix): truncated at offset 5: header needs 11 more bytes; the file is incomplete\n")
    }
}

extension ScratchDirectory {
    /// Writes `contents` to a new file `name` in this directory and returns its path.
    func file(_ name: String, _ contents: Data) throws -> String {
        let path = child(name)
        try contents.write(to: URL(fileURLWithPath: path))
        return path
    }
}
