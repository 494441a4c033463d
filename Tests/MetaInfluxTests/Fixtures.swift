import Foundation
import MetaFSM
import MetaInflux

/// The conformance fixtures committed under Fixtures/ (found relative to this file, so no machine path).
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    /// Directories holding conformance cases: the visible set and the extra oracle-generated ones.
    static let caseDirectories = ["influxdb", "influxdb-extra"]

    struct Case {
        let name: String
        let dir: URL
        /// `case-NNN` cases end in .data.pb/.data.json; `meta-NN` ones in .db/.db.json.
        var isMetaFile: Bool { name.hasPrefix("meta-") }
        var commands: URL { dir.appendingPathComponent(name + ".commands") }
        var expect: URL { dir.appendingPathComponent(name + ".expect.json") }
        var dataPB: URL { dir.appendingPathComponent(name + (isMetaFile ? ".db" : ".data.pb")) }
        var dataJSON: URL { dir.appendingPathComponent(name + (isMetaFile ? ".db.json" : ".data.json")) }
    }

    /// Every case with a .commands file, sorted by directory and name.
    static func cases() -> [Case] {
        var out: [Case] = []
        for d in caseDirectories {
            let dir = root.appendingPathComponent(d)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for n in names.sorted() where n.hasSuffix(".commands") {
                out.append(Case(name: String(n.dropLast(".commands".count)), dir: dir))
            }
        }
        return out
    }

    static func bytes(_ url: URL) throws -> [UInt8] { Array(try Data(contentsOf: url)) }

    /// expect.json: one entry per command, null or the error string.
    static func expectations(_ url: URL) throws -> [String?] {
        let any = try JSONSerialization.jsonObject(with: Data(contentsOf: url), options: [.fragmentsAllowed])
        guard let list = any as? [Any] else { throw CocoaError(.fileReadCorruptFile) }
        return list.map { $0 as? String }
    }

    /// The raw records of a command stream.
    static func records(_ bytes: [UInt8]) throws -> [[UInt8]] {
        try bytes.withUnsafeBytes { raw in try influxCommandRecords(raw).map { Array(raw[$0]) } }
    }
}
