import Foundation
import MetaFSM
import MetaInflux
import XCTest

/// Every fixture case, through MetaFSM's own decoder and apply loop, against InfluxDB 1.6.7's results.
final class ConformanceTests: XCTestCase {
    func testFixturesArePresent() {
        let cases = Fixtures.cases()
        XCTAssertGreaterThanOrEqual(cases.filter { $0.dir.lastPathComponent == "influxdb" }.count, 33)
    }

    /// Decode + apply from empty: each result equals expect.json, the final state renders to data.json
    /// byte for byte, equals data.pb decoded, and encodes to data.pb's exact bytes.
    func testEveryCaseMatchesInfluxDB() throws {
        var commandsChecked = 0
        var rejections = 0
        for c in Fixtures.cases() {
            let stream = try Fixtures.bytes(c.commands)
            let expect = try Fixtures.expectations(c.expect)
            var machine = InfluxStateMachine()
            let records = try Fixtures.records(stream)
            XCTAssertEqual(records.count, expect.count, "\(c.name): record count")
            for (i, rec) in records.enumerated() {
                let result = rec.withUnsafeBytes { machine.apply(index: UInt64(i + 1), term: 1, payload: $0) }
                let want = i < expect.count ? expect[i] : nil
                XCTAssertEqual(result?.description, want, "\(c.name) command \(i + 1)")
                if result != nil { rejections += 1 }
                commandsChecked += 1
            }
            let state = machine.store.data
            let wantJSON = try String(contentsOf: c.dataJSON, encoding: .utf8)
            XCTAssertEqual(state.canonicalJSON(), wantJSON, "\(c.name): canonical JSON")

            let wantBytes = try Fixtures.bytes(c.dataPB)
            let decoded = try InfluxData(metaDB: wantBytes)
            XCTAssertEqual(decoded.canonicalJSON(), wantJSON, "\(c.name): data.pb decodes to data.json")
            XCTAssertEqual(decoded.metaDBBytes(), wantBytes, "\(c.name): data.pb re-encodes byte-identically")
            XCTAssertEqual(state.metaDBBytes(), wantBytes, "\(c.name): our final state encodes to data.pb")
        }
        // The visible manifest's own tally of rejections, plus whatever extra cases add.
        let manifest = try JSONSerialization.jsonObject(
            with: Data(contentsOf: Fixtures.root.appendingPathComponent("influxdb/manifest.json"))) as? [String: Any]
        let listed = (manifest?["cases"] as? [[String: Any]]) ?? []
        XCTAssertEqual(listed.count, 30)
        XCTAssertGreaterThanOrEqual(rejections, listed.reduce(0) { $0 + (($1["rejected"] as? Int) ?? 0) })
        XCTAssertGreaterThanOrEqual(commandsChecked, listed.reduce(0) { $0 + (($1["commands"] as? Int) ?? 0) })
    }

    /// meta.db files: decode, re-encode (same bytes), decode again (same state).
    func testMetaFilesRoundTrip() throws {
        for c in Fixtures.cases() where c.isMetaFile {
            let raw = try Fixtures.bytes(c.dataPB)
            let once = try InfluxData(metaDB: raw)
            let again = once.metaDBBytes()
            XCTAssertEqual(again, raw, c.name)
            XCTAssertEqual(try InfluxData(metaDB: again), once, c.name)
        }
    }

    /// Command encoding is InfluxDB's byte for byte (extension first, then the type).
    func testCommandsReEncodeByteIdentically() throws {
        for c in Fixtures.cases() {
            for rec in try Fixtures.records(try Fixtures.bytes(c.commands)) {
                let cmd = try InfluxCommand(decoding: rec)
                if case .setData = cmd { continue }  // OwnerIDs become Owners, duplicate privileges collapse
                XCTAssertEqual(cmd.encoded(), rec, "\(c.name) \(cmd.typeName)")
            }
        }
    }
}
