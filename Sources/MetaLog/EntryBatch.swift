#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Growable, 8-byte aligned raw bytes owned by one `EntryBatch` (copied on write when shared).
final class BatchStorage: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int
    var count = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        base = .allocate(byteCount: self.capacity, alignment: 8)
    }

    deinit { base.deallocate() }

    func copy() -> BatchStorage {
        let other = BatchStorage(capacity: capacity)
        other.base.copyMemory(from: base, byteCount: count)
        other.count = count
        return other
    }

    /// Makes room for `extra` more bytes after `count`.
    @inline(__always)
    func reserve(_ extra: Int) {
        if count + extra > capacity { grow(count + extra) }
    }

    private func grow(_ needed: Int) {
        var newCapacity = capacity * 2
        while newCapacity < needed { newCapacity *= 2 }
        let newBase = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        newBase.copyMemory(from: base, byteCount: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }
}

/// A batch of entries in ONE contiguous byte buffer (no object or array per entry), laid out as the
/// frames of the segment format. Used both to append (entries get the next indexes when appended) and
/// as the result of range reads (`Log.read`).
///
/// Cost: appending an entry copies its payload once into the buffer (amortized O(payload), no allocation
/// once the buffer has grown); reading a header or payload is O(1).
public struct EntryBatch: Sendable {
    var storage: BatchStorage
    /// Byte offset of each frame in `storage`.
    var starts: [Int]
    /// Sum of payload sizes.
    public private(set) var payloadBytes: Int = 0
    /// Index of the first entry when this batch came from a read (0 for a batch built to append).
    public internal(set) var firstIndex: UInt64 = 0

    /// An empty batch whose buffer holds `reservingBytes` bytes of frames before it grows.
    public init(reservingBytes: Int = 0) {
        storage = BatchStorage(capacity: reservingBytes)
        starts = []
    }

    /// Number of entries.
    public var count: Int { starts.count }
    /// Whether the batch has no entries.
    public var isEmpty: Bool { starts.isEmpty }
    /// Bytes the batch's frames take on disk (headers, payloads and padding).
    public var encodedBytes: Int { storage.count }

    @inline(__always)
    private mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Appends an entry whose payload is written in place by `fill` (exactly `payloadCount` bytes):
    /// the zero-copy way to produce entries. If `fill` throws, the entry is not added.
    public mutating func append(
        term: UInt64, kind: UInt8 = 0, payloadCount: Int, fill: (UnsafeMutableRawBufferPointer) throws -> Void
    ) rethrows {
        precondition(payloadCount >= 0 && payloadCount <= Int(UInt32.max), "payload size out of range")
        makeUnique()
        let size = SegmentFormat.frameSize(payloadCount)
        storage.reserve(size)
        let frame = storage.base + storage.count
        Frame.writeBatchHeader(frame, payloadLength: payloadCount, term: term, kind: kind)
        let payload = frame + SegmentFormat.frameHeaderSize
        let padding = size - SegmentFormat.frameHeaderSize - payloadCount
        if padding > 0 { (payload + payloadCount).initializeMemory(as: UInt8.self, repeating: 0, count: padding) }
        try fill(UnsafeMutableRawBufferPointer(start: payload, count: payloadCount))
        starts.append(storage.count)
        storage.count += size
        payloadBytes += payloadCount
    }

    /// Appends an entry, copying `payload`.
    public mutating func append(term: UInt64, kind: UInt8 = 0, payload: UnsafeRawBufferPointer) {
        append(term: term, kind: kind, payloadCount: payload.count) { target in
            if let source = payload.baseAddress, let destination = target.baseAddress {
                destination.copyMemory(from: source, byteCount: payload.count)
            }
        }
    }

    /// Appends an entry, copying `payload`.
    public mutating func append(term: UInt64, kind: UInt8 = 0, payload: [UInt8]) {
        payload.withUnsafeBytes { append(term: term, kind: kind, payload: $0) }
    }

    /// Appends every entry of `other` (term, kind, payload; a read batch's indexes are not kept: entries
    /// get their indexes when appended to a log). Cost: one copy of `other`'s frames, no allocation once
    /// the buffer has grown.
    public mutating func append(contentsOf other: EntryBatch) {
        guard let from = other.starts.first else { return }
        makeUnique()
        let length = other.storage.count - from
        let base = storage.count
        storage.reserve(length)
        withExtendedLifetime(other.storage) {
            (storage.base + base).copyMemory(from: other.storage.base + from, byteCount: length)
        }
        starts.reserveCapacity(starts.count + other.starts.count)
        for start in other.starts { starts.append(base + start - from) }
        storage.count += length
        payloadBytes += other.payloadBytes
    }

    /// Removes every entry (keeping the buffer for reuse unless told otherwise).
    public mutating func removeAll(keepingCapacity: Bool = true) {
        if keepingCapacity && isKnownUniquelyReferenced(&storage) {
            storage.count = 0
        } else {
            storage = BatchStorage(capacity: keepingCapacity ? storage.capacity : 0)
        }
        starts.removeAll(keepingCapacity: keepingCapacity)
        payloadBytes = 0
        firstIndex = 0
    }

    /// Facts of the entry at `position` (0..<count; a position out of range is a programming error and
    /// traps). For a batch built to append, `index` is 0.
    public func header(at position: Int) -> EntryHeader {
        let frame = UnsafeRawPointer(storage.base + starts[position])
        return EntryHeader(index: Frame.index(frame), term: Frame.term(frame), kind: Frame.kind(frame))
    }

    /// Calls `body` with the payload of the entry at `position` (0..<count, traps otherwise). The buffer
    /// is valid only inside `body`.
    public func withPayload<R>(at position: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        let frame = UnsafeRawPointer(storage.base + starts[position])
        let result = try body(
            UnsafeRawBufferPointer(start: frame + SegmentFormat.frameHeaderSize, count: Frame.payloadLength(frame)))
        withExtendedLifetime(storage) {}
        return result
    }

    /// The entry at `position` as an `Entry` with its own payload copy.
    public func entry(at position: Int) -> Entry {
        let header = header(at: position)
        return Entry(
            index: header.index, term: header.term, kind: header.kind,
            payload: withPayload(at: position) { [UInt8]($0) })
    }
}

extension EntryBatch {
    mutating func setPayloadBytes(_ value: Int) { payloadBytes = value }
}
