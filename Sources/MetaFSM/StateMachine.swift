// The seam MetaEngine drives: committed log entries in, results out, whole state to and from a snapshot
// stream. Any replicated model (the InfluxDB meta store here, a key-value model later) conforms.

/// Where a state machine writes its snapshot. MetaSnapshot's streaming writer adapts to this (a
/// `write` that appends to the current chunk); ``ByteSnapshotSink`` collects into memory.
public protocol SnapshotSink {
    /// Appends `bytes` to the snapshot. Throws whatever the underlying writer throws.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Where a state machine reads a snapshot back from. MetaSnapshot's streaming reader adapts to this;
/// ``ByteSnapshotSource`` reads from memory.
public protocol SnapshotSource {
    /// Fills up to `buffer.count` bytes and returns how many were read; 0 means the end of the snapshot.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

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

    /// Writes the whole state (including the applied index and term) to `sink`.
    func writeSnapshot(to sink: inout some SnapshotSink) throws

    /// Replaces the whole state with the one in `source`. Throws when the bytes are not a valid snapshot of
    /// this kind; the state is then unchanged.
    mutating func restoreSnapshot(from source: inout some SnapshotSource) throws
}

/// A snapshot sink that collects bytes in memory.
public struct ByteSnapshotSink: SnapshotSink {
    /// Everything written so far.
    public var bytes: [UInt8] = []
    /// An empty sink.
    public init() {}
    /// Appends `b`; never throws.
    public mutating func write(_ b: UnsafeRawBufferPointer) throws { bytes.append(contentsOf: b) }
}

/// A snapshot source over bytes in memory.
public struct ByteSnapshotSource: SnapshotSource {
    /// The whole snapshot.
    public let bytes: [UInt8]
    /// How much has been read.
    public var offset = 0
    /// A source reading `bytes` from the start.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    /// Copies the next bytes into `buffer`; 0 at the end. Never throws.
    public mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(buffer.count, bytes.count - offset)
        if n <= 0 { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + n)]))
        }
        offset += n
        return n
    }
}

extension SnapshotSource {
    /// Reads everything up to the end of the stream (64 KiB at a time).
    public mutating func readAll() throws -> [UInt8] {
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try read(into: $0) }
            if n == 0 { return out }
            out.append(contentsOf: chunk[0..<n])
        }
    }
}
