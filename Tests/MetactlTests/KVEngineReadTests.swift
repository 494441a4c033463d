import Foundation
import MetaEngine
import MetaKV
import XCTest

/// `metactl kv get|range --engine DIR`: the newest snapshot plus the committed log after it, read-only.
final class KVEngineReadTests: XCTestCase {
    /// Puts 150 keys, snapshots, then overwrites some, deletes one and adds more (log only after the
    /// snapshot), so the answer needs both halves; metactl must print exactly what the live engine answers.
    func testGetAndRangeOnAnEngineDirectoryAnswerLikeTheLiveEngine() throws {
        let scratch = try ScratchDirectory("kv-engine")
        defer { scratch.remove() }
        let dir = scratch.child("engine")
        var o = EngineOptions()
        o.commitOnDurable = true
        let engine = try MetaEngine(directory: dir, stateMachine: KVStateMachine(), options: o)
        func put(_ key: String, _ value: String) throws {
            var batch = EntryBatch()
            batch.append(term: 1, payload: InternalRaftRequest(.put(PutRequest(key: Array(key.utf8), value: Array(value.utf8)))).encoded())
            _ = try engine.proposeSync(batch)
        }
        for k in 0..<150 { try put(String(format: "k/%03d", k), "v\(k)") }
        XCTAssertTrue(try engine.waitForAppliedSync(150, timeoutNanos: 60_000_000_000))
        let snap = try engine.snapshotSync()
        XCTAssertEqual(snap.index, 150)
        for k in stride(from: 0, to: 150, by: 10) { try put(String(format: "k/%03d", k), "w\(k)") }
        for k in 150..<160 { try put(String(format: "k/%03d", k), "n\(k)") }
        var batch = EntryBatch()
        batch.append(term: 1, payload: InternalRaftRequest(.deleteRange(DeleteRangeRequest(key: Array("k/005".utf8)))).encoded())
        let last = try engine.proposeSync(batch).upperBound
        XCTAssertEqual(last, 176)
        XCTAssertTrue(try engine.waitForAppliedSync(last, timeoutNanos: 60_000_000_000))
        let expectGet = try engine.read { KVJSON.line(.success(.range(try $0.range(RangeRequest(key: Array("k/010".utf8))).get()))) }
        var prefix = RangeRequest(key: Array("k/00".utf8), rangeEnd: Array("k/01".utf8))
        let expectRange = try engine.read { KVJSON.line(.success(.range(try $0.range(prefix).get()))) }
        prefix.revision = 100
        let expectOld = try engine.read { KVJSON.line(.success(.range(try $0.range(prefix).get()))) }
        try engine.close()
        XCTAssertTrue(expectGet.contains("\"value\":\"dzEw\""), "k/010 holds w10 (base64) after the snapshot: \(expectGet)")

        let get = try Metactl.run(["kv", "get", "--engine", dir, "k/010"], expect: 0)
        XCTAssertEqual(get.lines, [expectGet])
        let range = try Metactl.run(["kv", "range", "--engine", dir, "k/00", "--prefix"], expect: 0)
        XCTAssertEqual(range.lines, [expectRange])
        XCTAssertFalse(expectRange.contains(Data("k/005".utf8).base64EncodedString()), "k/005 was deleted")
        let old = try Metactl.run(["kv", "range", "--engine", dir, "k/00", "k/01", "--revision", "100"], expect: 0)
        XCTAssertEqual(old.lines, [expectOld])

        // Read-only: the directory's files are byte-for-byte what the engine left.
        let before = try contents(dir)
        try Metactl.run(["kv", "get", "--engine", dir, "k/000"], expect: 0)
        XCTAssertEqual(try contents(dir), before)

        let missing = try Metactl.run(["kv", "get", "--engine", scratch.child("nothing"), "k"], expect: 1)
        XCTAssertTrue(missing.stderr.contains("is not an engine directory (no log/ inside)"), missing.stderr)
        let both = try Metactl.run(["kv", "get", "--engine", dir, "--snapshot", dir + "/x", "k"], expect: 64)
        XCTAssertTrue(both.stderr.contains("give exactly one of --snapshot and --engine"), both.stderr)
    }

    /// Every file under `dir` (relative path → bytes).
    private func contents(_ dir: String) throws -> [String: Data] {
        var out: [String: Data] = [:]
        let names = try XCTUnwrap(FileManager.default.enumerator(atPath: dir))
        for case let name as String in names {
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: dir + "/" + name, isDirectory: &isDir)
            if !isDir.boolValue { out[name] = FileManager.default.contents(atPath: dir + "/" + name) }
        }
        return out
    }
}
