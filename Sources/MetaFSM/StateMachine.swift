// The seam MetaEngine drives: committed log entries in, results out, whole state to and from a snapshot
// stream (MetaSnapshot's SnapshotSink/SnapshotSource). Any replicated model conforms: the InfluxDB meta
// store (MetaInflux), the key-value store (MetaKV).

import MetaSnapshot

/// A deterministic replicated state machine.
///
/// Rules every conformer keeps: `apply` depends only on the state and the entry (never the wall clock,
/// randomness or local configuration), so every replica reaches the same state and the same snapshot
/// bytes; after each entry the state records its index and term; a payload the machine cannot
/// understand is answered with a result, not a crash, so replicas stay in step.
public protocol StateMachine {
    /// What `apply` answers for one entry (e.g. the command's error, or a read's value).
    associatedtype ApplyResult
    /// A name stored in snapshot headers so a snapshot is restored only into the same kind of machine.
    static var kind: String { get }
    /// Version of the snapshot encoding, stored in snapshot headers.
    static var snapshotVersion: UInt32 { get }

    /// Index of the last applied entry (0 before any).
    var appliedIndex: UInt64 { get }
    /// Term of the last applied entry (0 before any).
    var appliedTerm: UInt64 { get }

    /// Applies one committed entry. Entries arrive in index order, each exactly once.
    mutating func apply(index: UInt64, term: UInt64, payload: UnsafeRawBufferPointer) -> ApplyResult

    /// Records a committed entry the machine does not apply (a consensus no-op, a membership change): the
    /// applied index and term advance to `index`/`term`, nothing else changes. O(1).
    mutating func skip(index: UInt64, term: UInt64)

    /// Writes the whole state (including the applied index and term) to `sink`.
    func writeSnapshot(to sink: inout some SnapshotSink) throws

    /// Replaces the whole state with the one in `source`. Throws when the bytes are not a valid snapshot of
    /// this kind; the state is then unchanged.
    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws
}

