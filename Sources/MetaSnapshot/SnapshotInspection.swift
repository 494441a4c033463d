import SystemPackage

/// What `metactl snapshot inspect` shows: header fields, sizes, ratio and each chunk's hash status, rendered
/// as text for people or as JSON for scripts. Building one reads the whole file once (hashes only, no
/// decompression).
public struct SnapshotInspection: Sendable {
    /// The file's name as given.
    public var file: String
    /// Header and chunk table.
    public var layout: SnapshotLayout
    /// Hash status of every chunk and the digest.
    public var check: SnapshotCheck

    /// Inspects `reader`'s snapshot. Throws only I/O errors; hash mismatches land in `check`.
    public init(reader: SnapshotReader) throws {
        file = reader.source.name
        layout = reader.layout
        check = try reader.check()
    }

    /// True when every chunk hash and the digest match.
    public var ok: Bool { check.firstError == nil }

    /// Stored body bytes divided by raw body bytes (1 for an empty body).
    public var ratio: Double {
        layout.rawLength == 0 ? 1 : Double(layout.storedBodyLength) / Double(layout.rawLength)
    }

    /// A readable report, one fact per line, chunk lines last.
    public func text() -> String {
        let m = layout.meta
        var lines = [
            "file: \(file)",
            "format: \(layout.major).\(layout.minor)",
            "state machine: \(m.stateMachineKind) version \(m.stateMachineVersion)",
            "last index: \(m.lastIndex)",
            "last term: \(m.lastTerm)",
            "created: \(m.createdAtNanos) ns since the epoch",
            "membership: \(m.membership.count) bytes \(hex(m.membership))",
            "metadata: " + (m.userMetadata.isEmpty ? "none" : m.userMetadata.keys.sorted().map {
                "\($0)=\(readable(m.userMetadata[$0] ?? []))"
            }.joined(separator: " ")),
            "chunk size: \(layout.chunkBytes)",
            "chunks: \(layout.chunks.count)",
            "raw bytes: \(layout.rawLength)",
            "stored bytes: \(layout.storedBodyLength) (file \(layout.fileSize))",
            "ratio: \(fixed3(ratio))",
            "digest: \(hex64(layout.digest)) \(check.digestOK ? "ok" : "MISMATCH")",
        ]
        for (k, c) in layout.chunks.enumerated() {
            let ok = k < check.chunkOK.count && check.chunkOK[k]
            lines.append(
                "chunk \(k): offset \(c.offset) stored \(c.storedLength) raw \(c.rawLength) "
                    + "\(c.isRaw ? "raw" : "lz4") hash \(hex64(c.hash)) \(ok ? "ok" : "BAD")")
        }
        lines.append(ok ? "status: ok" : "status: DAMAGED: \(check.firstError?.description ?? "")")
        return lines.joined(separator: "\n")
    }

    /// The same facts as one JSON object (keys in a fixed order; byte strings as lowercase hex).
    public func json() -> String {
        let m = layout.meta
        let metadata = m.userMetadata.keys.sorted().map { "\(jsonString($0)):\"\(hex(m.userMetadata[$0] ?? []))\"" }
        let chunks = layout.chunks.enumerated().map { k, c in
            let ok = k < check.chunkOK.count && check.chunkOK[k]
            return "{\"index\":\(k),\"offset\":\(c.offset),\"stored\":\(c.storedLength),\"raw\":\(c.rawLength),"
                + "\"compression\":\"\(c.isRaw ? "raw" : "lz4")\",\"hash\":\"\(hex64(c.hash))\",\"ok\":\(ok)}"
        }
        let fields = [
            "\"file\":\(jsonString(file))", "\"format\":\"\(layout.major).\(layout.minor)\"",
            "\"state_machine_kind\":\(jsonString(m.stateMachineKind))",
            "\"state_machine_version\":\(m.stateMachineVersion)", "\"last_index\":\(m.lastIndex)",
            "\"last_term\":\(m.lastTerm)", "\"created_at_ns\":\(m.createdAtNanos)",
            "\"membership_hex\":\"\(hex(m.membership))\"", "\"metadata_hex\":{\(metadata.joined(separator: ","))}",
            "\"chunk_bytes\":\(layout.chunkBytes)", "\"chunk_count\":\(layout.chunks.count)",
            "\"raw_bytes\":\(layout.rawLength)", "\"stored_bytes\":\(layout.storedBodyLength)",
            "\"file_bytes\":\(layout.fileSize)", "\"ratio\":\(fixed3(ratio))", "\"digest\":\"\(hex64(layout.digest))\"",
            "\"digest_ok\":\(check.digestOK)", "\"ok\":\(ok)",
            "\"error\":" + (check.firstError.map { jsonString($0.description) } ?? "null"),
            "\"chunks\":[\(chunks.joined(separator: ","))]",
        ]
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The JSON object `inspect --json` prints for a file whose header or footer cannot be read.
    public static func unreadableJSON(file: String, error: Error) -> String {
        "{\"file\":\(jsonString(file)),\"ok\":false,\"error\":\(jsonString("\(error)"))}"
    }
}

/// One row of `metactl snapshot ls`: a file in a store directory and what it is.
public struct SnapshotListingEntry: Sendable, Equatable {
    /// What kind of file this is in a store directory.
    public enum Kind: String, Sendable { case published, partial, temporary }
    /// File name inside the directory.
    public var name: String
    /// Published snapshot, partial transfer or temporary leftover.
    public var kind: Kind
    /// The snapshot id the name carries (nil for temporary files).
    public var id: SnapshotID?
    /// File size.
    public var bytes: UInt64
    /// For published files: "ok" when header and footer read (chunk hashes are not checked), else the error.
    public var status: String

    /// Lists a store directory without changing it (unlike `SnapshotStore.init`, nothing is cleaned): published
    /// snapshots newest first, then partial transfers, then temporary leftovers. Throws `io`.
    public static func list(directory: String) throws -> [SnapshotListingEntry] {
        var entries: [SnapshotListingEntry] = []
        let dir = FilePath(directory)
        for name in try SnapshotDirectory.list(dir).sorted() {
            let bytes = try SnapshotDirectory.size(dir.appending(name)) ?? 0
            if let id = SnapshotID(fileName: name) {
                var status = "ok"
                do {
                    let layout = try SnapshotLayout(source: try SnapshotFileStorage(path: dir.appending(name).string))
                    status = "ok: \(layout.chunks.count) chunks, \(layout.rawLength) raw bytes, "
                        + "\(layout.meta.stateMachineKind), created \(layout.meta.createdAtNanos)"
                } catch {
                    status = "DAMAGED: \(error)"
                }
                entries.append(.init(name: name, kind: .published, id: id, bytes: bytes, status: status))
            } else if name.hasSuffix(SnapshotStore.partialSuffix) {
                let id = SnapshotID(fileName: String(name.dropLast(SnapshotStore.partialSuffix.count)))
                entries.append(.init(name: name, kind: .partial, id: id, bytes: bytes, status: "transfer in progress"))
            } else if name.hasSuffix(SnapshotStore.tempSuffix) {
                entries.append(
                    .init(name: name, kind: .temporary, id: nil, bytes: bytes, status: "leftover, removed on open"))
            }
        }
        let order: [Kind: Int] = [.published: 0, .partial: 1, .temporary: 2]
        return entries.sorted {
            (order[$0.kind] ?? 3, $1.id ?? SnapshotID(index: 0, term: 0)) < (order[$1.kind] ?? 3, $0.id ?? SnapshotID(index: 0, term: 0))
        }
    }
}

private let hexDigits = Array("0123456789abcdef")

func hex(_ bytes: [UInt8]) -> String {
    var s = ""
    s.reserveCapacity(bytes.count * 2)
    for b in bytes {
        s.append(hexDigits[Int(b >> 4)])
        s.append(hexDigits[Int(b & 15)])
    }
    return s
}

func hex64(_ v: UInt64) -> String {
    let digits = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: 16 - digits.count) + digits
}

/// A value as a quoted string when it is printable UTF-8, else as hex.
private func readable(_ bytes: [UInt8]) -> String {
    if let s = String(validating: bytes, as: UTF8.self), s.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0 != "\"" }) {
        return "\"\(s)\""
    }
    return "0x" + hex(bytes)
}

private func fixed3(_ x: Double) -> String {
    let scaled = Int((x * 1000).rounded())
    let frac = String(scaled % 1000)
    return "\(scaled / 1000)." + String(repeating: "0", count: 3 - frac.count) + frac
}

func jsonString(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        default:
            if scalar.value < 0x20 {
                let h = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - h.count) + h
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out + "\""
}
