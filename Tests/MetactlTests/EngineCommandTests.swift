import Foundation
import MetaEngine
import MetaInflux
import XCTest

/// `metactl engine stat|verify|load` on directories `metactl engine load` leaves.
final class EngineCommandTests: XCTestCase {
    func testStatAndVerifyReportTheLogHardStateAndSnapshotsAndNameDamage() throws {
        let scratch = try ScratchDirectory("engine-stat")
        defer { scratch.remove() }
        let dir = scratch.child("engine")
        let load = try Metactl.run(["engine", "load", "--dir", dir, "--count", "2500", "--proposers", "4",
                                    "--snapshot-every", "1000"], expect: 0)
        XCTAssertEqual(load.lines.first, "start 0")
        XCTAssertEqual(load.lines.count, 2501)
        XCTAssertEqual(Set(load.lines.dropFirst().map { $0.split(separator: " ")[1] }).count, 2500, "each index acknowledged once")

        let stat = try Metactl.run(["engine", "stat", "--dir", dir], expect: 0)
        XCTAssertEqual(stat.lines[1], "log 1...2500 entries 2500 segments 1 bytes \(try logBytes(dir))")
        XCTAssertEqual(stat.lines[3], "hardState term 0 vote 0 commit 2500")
        XCTAssertEqual(stat.lines[4], "snapshots 2 bytes \(try snapshotBytes(dir))")
        // Automatic snapshots fall after the apply batch that reaches 1000 and 2000 entries since the last.
        let ids = try FileManager.default.contentsOfDirectory(atPath: dir + "/snapshots").compactMap { SnapshotID(fileName: $0) }.sorted(by: >)
        XCTAssertEqual(ids.count, 2, "two kept")
        XCTAssertTrue(ids.allSatisfy { $0.term == 1 && $0.index >= 1000 })
        for (k, id) in ids.enumerated() {
            let size = try FileManager.default.attributesOfItem(atPath: dir + "/snapshots/" + id.fileName)[.size] as? Int ?? -1
            let raw = try SnapshotReader(path: dir + "/snapshots/" + id.fileName).layout.rawLength
            XCTAssertEqual(stat.lines[5 + k], "snapshot \(id.fileName) index \(id.index) term 1 bytes \(size) kind influxdb-meta v1 raw \(raw) membership 0 bytes")
        }
        XCTAssertEqual(stat.lines.suffix(2), ["appliedOnOpen 2500", "problems 0"])

        let json = try Metactl.json(["engine", "verify", "--dir", dir, "--json"])
        XCTAssertEqual(json["ok"] as? Bool, true)
        XCTAssertEqual(json["snapshotsVerified"] as? Bool, true)
        XCTAssertEqual(JSON.uint64(json["firstIndex"]), 1)
        XCTAssertEqual(JSON.uint64(json["lastIndex"]), 2500)
        XCTAssertEqual(JSON.uint64(json["appliedOnOpen"]), 2500)
        XCTAssertEqual(JSON.uint64((json["hardState"] as? [String: Any])?["commit"]), 2500)
        XCTAssertEqual(JSON.objects(json["snapshots"]).compactMap { JSON.uint64($0["index"]) }, ids.map(\.index))

        // A flipped byte in the newest snapshot's body: stat (headers only) is clean, verify names the file
        // and the chunk's offset and exits 1.
        let newest = dir + "/snapshots/" + ids[0].fileName
        let layout = try SnapshotReader(path: newest).layout
        var bytes = [UInt8](FileManager.default.contents(atPath: newest)!)
        bytes[Int(layout.headerLength) + 1] ^= 0x10
        FileManager.default.createFile(atPath: newest, contents: Data(bytes))
        try Metactl.run(["engine", "stat", "--dir", dir], expect: 0)
        let bad = try Metactl.run(["engine", "verify", "--dir", dir], expect: 1)
        let reason = try damage(newest)
        XCTAssertTrue(reason.contains("\(layout.headerLength)"), "the reason names the damaged chunk's offset: \(reason)")
        XCTAssertTrue(bad.lines.contains { $0.hasSuffix("DAMAGED: " + reason) }, "\(bad)")
        XCTAssertTrue(bad.stderr.contains("problem: snapshot \(ids[0].fileName): \(reason)"), bad.stderr)
        let badJSON = try Metactl.json(["engine", "verify", "--dir", dir, "--json"], expect: 1)
        XCTAssertEqual(badJSON["ok"] as? Bool, false)

        let missing = try Metactl.run(["engine", "stat", "--dir", scratch.child("nothing")], expect: 2)
        XCTAssertTrue(missing.stderr.contains("is not an engine directory (no log/ inside)"), missing.stderr)
    }

    private func logBytes(_ dir: String) throws -> Int64 {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/log").filter { $0.hasSuffix(".seg") }
            .reduce(Int64(0)) { $0 + Int64((try FileManager.default.attributesOfItem(atPath: dir + "/log/" + $1)[.size] as? NSNumber)?.int64Value ?? 0) }
    }

    private func snapshotBytes(_ dir: String) throws -> UInt64 {
        try FileManager.default.contentsOfDirectory(atPath: dir + "/snapshots").filter { $0.hasSuffix(".msnap") }
            .reduce(UInt64(0)) { $0 + ((try FileManager.default.attributesOfItem(atPath: dir + "/snapshots/" + $1)[.size] as? NSNumber)?.uint64Value ?? 0) }
    }

    /// The error MetaSnapshot's verify reports for `path`.
    private func damage(_ path: String) throws -> String {
        do {
            try SnapshotReader(path: path).verify()
            return "none"
        } catch {
            return "\(error)"
        }
    }
}
