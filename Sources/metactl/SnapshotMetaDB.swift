import Foundation
import MetaFSM
import MetaInflux
import MetaSnapshot

// `metactl snapshot inspect` on a file that is not a MetaEngine snapshot: a bare InfluxDB 1.x `meta.db`
// (the protobuf `meta.Data` message InfluxDB writes and MetaFSM's snapshot is byte for byte) is recognised
// and summarised; anything else is refused with the reason each format gave.

/// The magic every MetaEngine snapshot starts with (docs/FORMAT.md, header offset 0).
private let snapshotMagic: [UInt8] = Array("MSNAPSHT".utf8)

/// What `inspect` makes of a file's first bytes.
enum SnapshotInspectTarget {
    /// The file starts with the snapshot magic (or with a prefix of it, when shorter): the snapshot reader
    /// judges it, so a damaged or truncated snapshot gets the snapshot's own error.
    case snapshot
    /// The file is not a snapshot: byte `offset` is the first that differs from the magic (the file's size
    /// when it is empty), `found` the bytes read there.
    case notSnapshot(offset: UInt64, found: [UInt8])

    /// Reads at most the magic's length from the start of `source`. Throws `SnapshotError.io` on a read error.
    /// Cost: one read of up to 8 bytes.
    init(_ source: SnapshotFileStorage) throws {
        let count = Int(min(source.size, UInt64(snapshotMagic.count)))
        var head = [UInt8](repeating: 0, count: count)
        try head.withUnsafeMutableBytes { try source.read(at: 0, into: $0) }
        if let i = head.indices.first(where: { head[$0] != snapshotMagic[$0] }) {
            self = .notSnapshot(offset: UInt64(i), found: head)
        } else if count == 0 {
            self = .notSnapshot(offset: 0, found: [])
        } else {
            self = .snapshot
        }
    }

    /// Why the file is not a snapshot, in words; empty for `.snapshot`.
    var reason: String {
        switch self {
        case .snapshot:
            return ""
        case let .notSnapshot(offset, found) where found.isEmpty:
            return "the file is empty; a snapshot starts with magic \"MSNAPSHT\" at offset \(offset)"
        case let .notSnapshot(offset, found):
            let shown = found.map { String(format: "%02x", $0) }.joined()
            return "snapshot magic mismatch at offset \(offset): expected \"MSNAPSHT\" (4d534e4150534854), "
                + "found \(shown)"
        }
    }
}

/// A file that is neither a MetaEngine snapshot nor an InfluxDB meta.db; carries both formats' reasons.
struct SnapshotUnrecognizedFile: Error, CustomStringConvertible {
    /// The file as named on the command line.
    var file: String
    /// What the snapshot check found (see `SnapshotInspectTarget.reason`).
    var snapshotReason: String
    /// The first byte that is not the snapshot magic.
    var snapshotOffset: UInt64
    /// What the meta.db decoder threw.
    var metaDBError: MetaFSMError

    /// The byte offset the meta.db decoder names, when its error has one.
    var metaDBOffset: Int? {
        switch metaDBError {
        case let .malformed(_, offset, _), let .missingRequiredField(_, _, offset), let .wrongWireType(_, _, _, offset),
             let .unknownCommandType(_, offset), let .truncatedRecord(_, offset, _, _):
            return offset
        case .missingPayload, .snapshot:
            return nil
        }
    }

    var description: String {
        "\(file): neither a MetaEngine snapshot nor an InfluxDB meta.db. Tried: (1) MetaEngine snapshot: "
            + "\(snapshotReason); (2) InfluxDB meta.db (protobuf meta.Data): \(metaDBError)"
    }

    /// The object `inspect --json` prints for such a file.
    func json() -> String {
        let tried: [[String: Any]] = [
            ["format": "metaengine-snapshot", "offset": snapshotOffset, "error": snapshotReason],
            ["format": "influxdb-meta.db", "offset": metaDBOffset.map { $0 as Any } ?? NSNull(),
             "error": "\(metaDBError)"],
        ]
        return snapshotJSONLine(["file": file, "ok": false, "error": description, "tried": tried])
    }
}

/// Decides what `inspect` should do with `path`: `nil` when it is a snapshot (the caller inspects it with
/// `SnapshotInspection`), the decoded summary when it is a meta.db.
///
/// - Throws: `SnapshotError.io` when the file cannot be read; `SnapshotUnrecognizedFile` when it is neither
///   format. Cost: 8 bytes read for a snapshot; for anything else the whole file is read and decoded once.
func snapshotInspectMetaDB(path: String) throws -> SnapshotMetaDBSummary? {
    let source = try SnapshotFileStorage(path: path)
    let target = try SnapshotInspectTarget(source)
    guard case let .notSnapshot(offset, _) = target else { return nil }
    guard source.size <= UInt64(Int.max) else {
        throw SnapshotError.invalidArgument("\(path): \(source.size) bytes is too large to decode as a meta.db")
    }
    var bytes = [UInt8](repeating: 0, count: Int(source.size))
    try bytes.withUnsafeMutableBytes { try source.read(at: 0, into: $0) }
    do {
        return SnapshotMetaDBSummary(file: path, data: try InfluxData(metaDB: bytes))
    } catch let e as MetaFSMError {
        throw SnapshotUnrecognizedFile(file: path, snapshotReason: target.reason, snapshotOffset: offset, metaDBError: e)
    }
}

/// One JSON object on one line, keys sorted, slashes not escaped (file paths stay readable).
func snapshotJSONLine(_ object: [String: Any]) -> String {
    guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    else { return "{\"ok\":false,\"error\":\"cannot render JSON\"}" }
    return String(decoding: data, as: UTF8.self)
}
