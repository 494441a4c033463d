// The one streaming seam of the package: a state machine writes its snapshot to a `SnapshotSink` and
// reads it back from a `SnapshotSource`. SnapshotWriter/SnapshotReader adapt to these so a state of any
// size streams to and from a snapshot file; the Byte* types keep a snapshot in memory.

/// Where a state machine writes its snapshot. `SnapshotWriter` adapts to this (a
/// `write` that appends to the current chunk); ``ByteSnapshotSink`` collects into memory.
public protocol SnapshotSink {
    /// Appends `bytes` to the snapshot. Throws whatever the underlying writer throws.
    mutating func write(_ bytes: UnsafeRawBufferPointer) throws
}

/// Where a state machine reads a snapshot back from. `SnapshotReader` adapts to this;
/// ``ByteSnapshotSource`` reads from memory.
public protocol SnapshotSource {
    /// Fills up to `buffer.count` bytes and returns how many were read; 0 means the end of the snapshot.
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
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

/// A state machine writes its snapshot straight into a snapshot file: each `write` appends to the current
/// chunk, full chunks are compressed and written as they fill, so memory stays one chunk or two whatever
/// the state's size. Throws what `SnapshotWriter.write(_:)` throws.
extension SnapshotWriter: SnapshotSink {}

/// A state machine reads its snapshot straight out of a snapshot file, chunk by chunk (each chunk's hash is
/// checked as it is decoded). Throws what `SnapshotReader.read(into:)` throws.
extension SnapshotReader: SnapshotSource {}
