import Foundation
import MetaFSM
import MetaKV

/// The etcd conformance fixtures committed under Fixtures/etcd (found relative to this file).
enum KVFixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/etcd")

    /// Every case name (`case-NNN`, `realistic-NN`, `rules-01`), sorted.
    static func names(in dir: URL = root) -> [String] {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".commands") }.map { String($0.dropLast(".commands".count)) }.sorted()
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    /// The records of a command stream.
    static func records(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try bytes.withUnsafeBytes { raw in try kvCommandRecords(raw).map { Array(raw[$0]) } }
    }

    /// Replays case `name` of `dir`; returns the response lines and the final machine.
    static func replay(_ name: String, in dir: URL = root) throws -> (lines: [String], machine: KVStateMachine) {
        var m = KVStateMachine()
        var lines: [String] = []
        for (i, r) in try records(try bytes(dir.appendingPathComponent(name + ".commands"))).enumerated() {
            let result = r.withUnsafeBytes { m.apply(index: UInt64(i + 1), term: 1, payload: $0) }
            lines.append(KVJSON.line(result))
        }
        return (lines, m)
    }

    static func expectedLines(_ name: String, in dir: URL = root) throws -> [String] {
        let text = String(decoding: try bytes(dir.appendingPathComponent(name + ".expect.jsonl")), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func expectedState(_ name: String, in dir: URL = root) throws -> String {
        String(decoding: try bytes(dir.appendingPathComponent(name + ".state.json")), as: UTF8.self)
    }
}
