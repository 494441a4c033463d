/// What a snapshot's header records besides the format fields: which state machine produced the body, the last
/// log entry the snapshot includes, the cluster membership at that point, free-form user metadata and the
/// creation time the caller chose (MetaSnapshot never reads the clock).
public struct SnapshotMeta: Sendable, Equatable {
    /// Names the state machine whose state the body holds (e.g. "influxdb-meta", "kv"); at most 65535 UTF-8 bytes.
    public var stateMachineKind: String
    /// The state machine's own encoding version of the body.
    public var stateMachineVersion: UInt32
    /// Index of the last log entry whose effects the snapshot includes.
    public var lastIndex: UInt64
    /// Term of that entry.
    public var lastTerm: UInt64
    /// Opaque membership bytes (the host's encoding of the voter set at `lastIndex`).
    public var membership: [UInt8]
    /// User metadata: string keys (at most 65535 UTF-8 bytes each), byte values. Written sorted by key.
    public var userMetadata: [String: [UInt8]]
    /// Creation time given by the caller, in nanoseconds since the Unix epoch.
    public var createdAtNanos: Int64

    /// Makes a description of a snapshot; every field is stored verbatim in the header.
    public init(
        stateMachineKind: String, stateMachineVersion: UInt32 = 1, lastIndex: UInt64, lastTerm: UInt64,
        membership: [UInt8] = [], userMetadata: [String: [UInt8]] = [:], createdAtNanos: Int64 = 0
    ) {
        self.stateMachineKind = stateMachineKind
        self.stateMachineVersion = stateMachineVersion
        self.lastIndex = lastIndex
        self.lastTerm = lastTerm
        self.membership = membership
        self.userMetadata = userMetadata
        self.createdAtNanos = createdAtNanos
    }

    /// The store identity of a snapshot with this description.
    public var id: SnapshotID { SnapshotID(index: lastIndex, term: lastTerm) }
}

/// Identifies a snapshot in a `SnapshotStore`: the index and term of the last included entry. Ordered by index,
/// then term, so "newest" means the highest index.
public struct SnapshotID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Index of the last included entry.
    public var index: UInt64
    /// Term of the last included entry.
    public var term: UInt64

    /// Makes an id from the last included index and term.
    public init(index: UInt64, term: UInt64) {
        self.index = index
        self.term = term
    }

    /// Ordered by index, then term: newer snapshots compare greater.
    public static func < (a: SnapshotID, b: SnapshotID) -> Bool {
        (a.index, a.term) < (b.index, b.term)
    }

    /// "index I term T".
    public var description: String { "index \(index) term \(term)" }

    /// The published file name: `snapshot-<index>-<term>.msnap`, both as 20 decimal digits so names sort by id.
    public var fileName: String { "snapshot-\(Self.padded(index))-\(Self.padded(term)).msnap" }

    /// Parses a published file name; nil for any other name.
    public init?(fileName: String) {
        let parts = fileName.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "snapshot", parts[2].hasSuffix(".msnap") else { return nil }
        let termText = parts[2].dropLast(".msnap".count)
        guard parts[1].count == 20, termText.count == 20,
            let index = UInt64(parts[1]), let term = UInt64(termText)
        else { return nil }
        self.init(index: index, term: term)
    }

    private static func padded(_ value: UInt64) -> String {
        let digits = String(value)
        return String(repeating: "0", count: 20 - digits.count) + digits
    }
}
