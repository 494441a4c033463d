// The InfluxDB meta store as a StateMachine: entry payloads are encoded meta.Command messages; the
// snapshot is exactly a meta.db file (the `Data` encoding), so any snapshot is also a valid meta.db.

import MetaFSM
import MetaSnapshot

/// Where the "now" of an entry comes from. It is always derived from the entry, never the local clock.
public enum InfluxClock: Sendable, Equatable {
    /// now = (base + entry index) seconds since the Unix epoch: the conformance fixtures' convention
    /// (base 1577836800, i.e. 2020-01-01T00:00:00Z).
    case indexSeconds(baseUnixSeconds: Int64)
    /// The payload starts with the leader's clock as 8 bytes little-endian Unix nanoseconds, followed by
    /// the encoded command (see ``InfluxStateMachine/envelope(command:nowNanos:)``).
    case leaderStamped

    /// The conformance convention.
    public static let conformance = InfluxClock.indexSeconds(baseUnixSeconds: 1_577_836_800)
}

/// InfluxDB 1.6.7's meta store, applying committed `meta.Command` entries.
public struct InfluxStateMachine: StateMachine, Sendable {
    /// nil when applied, else why the command was rejected.
    public typealias ApplyResult = InfluxError?
    /// Snapshot kind: snapshots are meta.db files.
    public static let kind = "influxdb-meta"
    /// Version 1: the snapshot body is exactly a meta.db.
    public static let snapshotVersion: UInt32 = 1

    /// The state and its indexes; read it for look-ups.
    public private(set) var store: InfluxStore
    /// Where "now" comes from; the same on every replica.
    public let clock: InfluxClock

    /// A machine starting from `data` (the empty state by default).
    public init(data: InfluxData = InfluxData(), clock: InfluxClock = .conformance) {
        store = InfluxStore(data: data)
        self.clock = clock
    }

    /// Data.Index: the last applied entry.
    public var appliedIndex: UInt64 { store.data.index }
    /// Data.Term: the last applied entry.
    public var appliedTerm: UInt64 { store.data.term }

    /// Decodes and applies one entry; Term and Index are stamped whether or not the command succeeded.
    ///
    /// - Returns: nil when applied; the InfluxDB error when rejected; ``InfluxError/undecodable(_:)`` when
    ///   the payload is not a valid command (the state is then unchanged apart from Term/Index).
    public mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> InfluxError? {
        var body = payload
        let now: Int64
        switch clock {
        case let .indexSeconds(base):
            now = (base &+ Int64(truncatingIfNeeded: index)) &* 1_000_000_000
        case .leaderStamped:
            guard payload.count >= 8 else {
                store.stamp(term: term, index: index)
                return .undecodable(.malformed(message: "entry", offset: 0, reason: "shorter than the 8-byte clock"))
            }
            now = Int64(littleEndian: payload.loadUnaligned(as: Int64.self))
            body = UnsafeRawBufferPointer(rebasing: payload[8...])
        }
        let result: InfluxError?
        do {
            let command = try InfluxCommand(decoding: body)
            result = store.apply(command, now: now)
        } catch let e as MetaFSMError {
            result = .undecodable(e)
        } catch {
            result = .undecodable(.malformed(message: "Command", offset: 0, reason: "\(error)"))
        }
        store.stamp(term: term, index: index)
        return result
    }

    /// Applies an already decoded command (for hosts that decode once and keep the value).
    public mutating func apply(index: UInt64, term: UInt64, command: InfluxCommand, now: Int64) -> InfluxError? {
        let r = store.apply(command, now: now)
        store.stamp(term: term, index: index)
        return r
    }

    /// Stamps Term/Index for an entry that carries no command (a consensus no-op or membership change),
    /// as InfluxDB's FSM does for every log entry it is handed. O(1).
    public mutating func skip(index: UInt64, term: UInt64) {
        store.stamp(term: term, index: index)
    }

    /// The payload of a `.leaderStamped` entry: `nowNanos` (8 bytes LE) + the encoded command.
    public static func envelope(command: InfluxCommand, nowNanos: Int64) -> [UInt8] {
        var out = withUnsafeBytes(of: nowNanos.littleEndian) { Array($0) }
        out += command.encoded()
        return out
    }

    /// Writes the state as a meta.db (one write). O(state size).
    public func writeSnapshot(to sink: inout some SnapshotSink) throws {
        let bytes = store.data.metaDBBytes()
        try bytes.withUnsafeBytes { try sink.write($0) }
    }

    /// Reads a meta.db written by writeSnapshot (or InfluxDB); throws MetaFSMError and keeps the state when it is invalid.
    public mutating func restoreSnapshot(from source: inout some SnapshotSource) throws {
        let bytes = try source.readAll()
        let data = try InfluxData(metaDB: bytes)
        store.replace(with: data)
    }
}
