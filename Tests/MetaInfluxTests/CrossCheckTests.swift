import Foundation
import GeneratedProto
import SwiftProtobuf
import XCTest

@testable import MetaInflux
import MetaFSM

/// The hand-written codec against swift-protobuf's code generated from the same meta.proto, and goSort
/// against Go's own sort.Sort.
final class CrossCheckTests: XCTestCase {
    /// Canonical bytes of a swift-protobuf message (fields in number order), with the 1.6.7 reading rules
    /// applied to every Data inside (OwnerIDs become owners, privileges one per database, last wins,
    /// sorted) so that both sides describe the same value.
    func normalised(_ d: Meta_Data) -> Meta_Data {
        var d = d
        for i in d.databases.indices {
            for j in d.databases[i].retentionPolicies.indices {
                for k in d.databases[i].retentionPolicies[j].shardGroups.indices {
                    for s in d.databases[i].retentionPolicies[j].shardGroups[k].shards.indices {
                        var sh = d.databases[i].retentionPolicies[j].shardGroups[k].shards[s]
                        if !sh.ownerIds.isEmpty {
                            sh.owners = sh.ownerIds.map { id in Meta_ShardOwner.with { $0.nodeID = id } }
                            sh.ownerIds = []
                        }
                        d.databases[i].retentionPolicies[j].shardGroups[k].shards[s] = sh
                    }
                    if d.databases[i].retentionPolicies[j].shardGroups[k].hasTruncatedAt,
                        d.databases[i].retentionPolicies[j].shardGroups[k].truncatedAt == 0
                    {
                        d.databases[i].retentionPolicies[j].shardGroups[k].clearTruncatedAt()
                    }
                }
            }
        }
        for u in d.users.indices {
            var last: [String: Int32] = [:]
            for p in d.users[u].privileges { last[p.database] = p.privilege }
            d.users[u].privileges = last.keys.sorted { byteLess($0, $1) }.map { db in
                Meta_UserPrivilege.with {
                    $0.database = db
                    $0.privilege = last[db] ?? 0
                }
            }
        }
        return d
    }

    func testEveryFixtureCommandDecodesLikeSwiftProtobuf() throws {
        var checked = 0
        for c in Fixtures.cases() {
            for rec in try Fixtures.records(try Fixtures.bytes(c.commands)) {
                var reference = try Meta_Command(serializedBytes: rec, extensions: Meta_Meta_Extensions)
                XCTAssertTrue(reference.isInitialized, "\(c.name): swift-protobuf sees missing required fields")
                if reference.hasMeta_SetDataCommand_command {
                    reference.Meta_SetDataCommand_command.data = normalised(reference.Meta_SetDataCommand_command.data)
                }
                let ours = try InfluxCommand(decoding: rec)
                let viaOurs = try Meta_Command(serializedBytes: ours.encoded(), extensions: Meta_Meta_Extensions)
                XCTAssertEqual(viaOurs, reference, "\(c.name) \(ours.typeName)")
                XCTAssertEqual(Int(reference.type.rawValue), ours.typeNumber)
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 2000)
    }

    func testEveryFixtureStateDecodesLikeSwiftProtobuf() throws {
        for c in Fixtures.cases() {
            let raw = try Fixtures.bytes(c.dataPB)
            let reference = try Meta_Data(serializedBytes: raw)
            let ours = try InfluxData(metaDB: raw)
            XCTAssertEqual(try Meta_Data(serializedBytes: ours.metaDBBytes()), normalised(reference), c.name)
            // And swift-protobuf's own encoding (field order may differ) decodes to the same state here.
            let theirs: [UInt8] = try reference.serializedBytes()
            XCTAssertEqual(try InfluxData(metaDB: theirs), ours, c.name)
        }
    }

    func testGoSortMatchesGo119() throws {
        let text = try String(contentsOf: Fixtures.root.appendingPathComponent("gosort/go1.19-sort-vectors.txt"),
                              encoding: .utf8)
        var lines = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            XCTAssertEqual(parts.count, 3)
            let keys = parts[1].split(separator: ",").compactMap { Int($0) }
            let want = parts[2].split(separator: ",").compactMap { Int($0) }
            var items = keys.enumerated().map { (key: $0.element, id: $0.offset) }
            goSort(&items) { $0.key < $1.key }
            XCTAssertEqual(items.map(\.id), want, "n=\(keys.count) keys=\(parts[1])")
            lines += 1
        }
        XCTAssertEqual(lines, 27)
    }
}

/// Subscription destinations judged by Go's own net/url and net.SplitHostPort.
final class SubscriptionURLCrossCheckTests: XCTestCase {
    func testAgreesWithGo119OnEveryVector() throws {
        let text = try String(
            contentsOf: Fixtures.root.appendingPathComponent("gourl/go1.19-subscription-url-vectors.txt"), encoding: .utf8)
        var checked = 0
        var accepted = 0
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            XCTAssertEqual(parts.count, 2)
            let hex = Array(parts[1].utf8)
            var bytes: [UInt8] = []
            var i = 0
            while i + 1 < hex.count {
                bytes.append(unhex(hex[i]) << 4 | unhex(hex[i + 1]))
                i += 2
            }
            guard let s = String(validating: bytes, as: UTF8.self) else { continue }
            let want = parts[0] == "1"
            XCTAssertEqual(isValidSubscriptionURL(s), want, "\(s.debugDescription)")
            checked += 1
            if want { accepted += 1 }
        }
        XCTAssertGreaterThan(checked, 2000)
        XCTAssertGreaterThan(accepted, 300)
    }
}
