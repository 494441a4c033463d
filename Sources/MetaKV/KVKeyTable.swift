// The sorted key order of the MVCC store: every key that has history to keep, in unsigned bytewise order,
// each with the slab slot of its versions (KVKeyIndex.swift). A value type whose copy is O(1): the table is
// an array of chunks (each an array of at most 128 entries), so both levels are copy-on-write. After a copy
// (a snapshot taken from a frozen state), the first insert copies the chunk and fence arrays (one pointer
// and one 24-byte prefix per 64-128 keys: ~40 KB per 100,000 keys) and the one chunk it touches, never the
// keys, values or histories.

import Foundation

/// One version of a key: what a put wrote, or a tombstone (``version`` 0) left by a delete.
public struct KVVersion: Equatable, Sendable {
    /// Revision of the write (the delete's for a tombstone).
    public var modRevision: Int64
    /// Revision that created this generation (0 for a tombstone).
    public var createRevision: Int64
    /// 1 at creation, +1 per put; 0 marks a tombstone.
    public var version: Int64
    /// Attached lease (0: none).
    public var lease: Int64
    /// The value, shared with every reader (never copied on read).
    public var value: [UInt8]
    /// Whether this is a delete marker.
    @inlinable public var isTombstone: Bool { version == 0 }
}

/// The first 16 bytes of a key (zero-padded, big endian) and its length: orders two keys without touching
/// their heap buffers unless both share these 16 bytes and one is longer. Kept inline in records and in the
/// per-chunk fence array, so a lookup's binary searches stay in contiguous memory.
@usableFromInline struct KeyPrefix: Sendable {
    @usableFromInline var hi: UInt64
    @usableFromInline var lo: UInt64
    @usableFromInline var length: Int

    @inlinable init(_ key: UnsafeRawBufferPointer) {
        length = key.count
        if key.count >= 16 {
            hi = UInt64(bigEndian: key.loadUnaligned(as: UInt64.self))
            lo = UInt64(bigEndian: key.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        } else {
            var buf: (UInt64, UInt64) = (0, 0)
            withUnsafeMutableBytes(of: &buf) { b in
                if let src = key.baseAddress, let dst = b.baseAddress { dst.copyMemory(from: src, byteCount: key.count) }
            }
            hi = UInt64(bigEndian: buf.0)
            lo = UInt64(bigEndian: buf.1)
        }
    }

    @inlinable init(_ key: [UInt8]) { self = key.withUnsafeBytes { KeyPrefix($0) } }

    /// <0, 0, >0 as bytewise order; 0 also when undecided (both share 16 bytes and one is longer).
    @inlinable func order(_ b: KeyPrefix) -> Int {
        if hi != b.hi { return hi < b.hi ? -1 : 1 }
        if lo != b.lo { return lo < b.lo ? -1 : 1 }
        return 0
    }

    /// Whether `order` == 0 settles equality-or-length order without the full keys.
    @inlinable func decidedByLength(_ b: KeyPrefix) -> Bool { length <= 16 && b.length <= 16 }
}

/// Compares a stored key (with its prefix) to a search key (with its prefix).
@inlinable func compareKey(_ ap: KeyPrefix, _ a: [UInt8], _ bp: KeyPrefix, _ b: UnsafeRawBufferPointer) -> Int {
    let o = ap.order(bp)
    if o != 0 { return o }
    if ap.decidedByLength(bp) { return ap.length - bp.length }
    return compareBytes(a, b)
}

/// A key's versions: `latest`, and the handle of its newest older version in the store's ``VersionHistory``
/// (older ones follow through the chain), kept for reads at past revisions.
@usableFromInline struct KeyVersions: Sendable {
    /// The key (shared with the sorted table's entry).
    @usableFromInline var key: [UInt8]
    /// The key's first 16 bytes and length, inline: a point lookup settles a key of up to 16 bytes
    /// without loading the key's own storage (one cache miss less per get and put).
    @usableFromInline var prefix: KeyPrefix
    @usableFromInline var latest: KVVersion
    /// Handle of the newest older version (0: none).
    @usableFromInline var history: Int

    @inlinable init(key: [UInt8], latest: KVVersion, history: Int = 0) {
        self.key = key; self.prefix = KeyPrefix(key); self.latest = latest; self.history = history
    }

    /// Whether the stored key equals `k`, whose prefix is `kp` (a length mismatch settles it without the
    /// key's bytes; otherwise `compareKey` reads them only past 16 bytes).
    @inlinable func hasKey(_ k: UnsafeRawBufferPointer, _ kp: KeyPrefix) -> Bool {
        prefix.length == kp.length && compareKey(prefix, key, kp, k) == 0
    }

    /// The version visible at revision `rev` (nil if the key did not exist then). O(1) for the current
    /// state; a past revision walks the older versions from the newest.
    @inlinable func visible(at rev: Int64, _ history: VersionHistory) -> KVVersion? {
        if latest.modRevision <= rev { return latest.isTombstone ? nil : latest }
        var h = self.history
        while h != 0 {
            let node = history[h]
            if node.version.modRevision <= rev { return node.version.isTombstone ? nil : node.version }
            h = node.prev
        }
        return nil
    }
}

/// An entry of the sorted table: the key, its inline prefix and the slot of its versions in the slab.
@usableFromInline struct KeyRecord: Sendable {
    @usableFromInline var key: [UInt8]
    @usableFromInline var prefix: KeyPrefix
    @usableFromInline var slot: UInt32

    @inlinable init(key: [UInt8], slot: UInt32) {
        self.key = key
        self.prefix = KeyPrefix(key)
        self.slot = slot
    }
}

/// Unsigned bytewise comparison (memcmp, then length): <0, 0, >0.
@inlinable func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
        let c = memcmp(pa, pb, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

@inlinable func compareBytes(_ a: [UInt8], _ b: UnsafeRawBufferPointer) -> Int {
    a.withUnsafeBytes { compareBytes($0, b) }
}

@inlinable func compareBytes(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.withUnsafeBytes { pa in b.withUnsafeBytes { compareBytes(pa, $0) } }
}

/// A position in the table: chunk and index within it. `chunk == chunks.count` is the end.
@usableFromInline struct TablePosition: Equatable, Sendable {
    @usableFromInline var chunk: Int
    @usableFromInline var index: Int
    @inlinable init(chunk: Int, index: Int) { self.chunk = chunk; self.index = index }
}

/// The chunked sorted array of ``KeyRecord``s.
@usableFromInline struct KeyTable: Sendable {
    @usableFromInline static let maxChunk = 128
    @usableFromInline var chunks: [[KeyRecord]] = []
    /// The prefix of each chunk's last key (parallel to `chunks`).
    @usableFromInline var fences: [KeyPrefix] = []
    /// Records in the table (live keys and keys with only history left).
    @usableFromInline var count = 0

    @usableFromInline init() {}

    @inlinable var end: TablePosition { TablePosition(chunk: chunks.count, index: 0) }

    /// The first position whose key is >= `key`, and whether its key equals `key`. O(log n).
    @inlinable func lowerBound(_ key: UnsafeRawBufferPointer) -> (TablePosition, Bool) {
        let kp = KeyPrefix(key)
        var lo = 0, hi = chunks.count
        fences.withUnsafeBufferPointer { f in
            while lo < hi {
                let mid = (lo + hi) >> 1
                var c = f[mid].order(kp)
                if c == 0 {
                    c = f[mid].decidedByLength(kp) ? f[mid].length - kp.length
                        : chunks[mid].withUnsafeBufferPointer { compareBytes($0[$0.count - 1].key, key) }
                }
                if c < 0 { lo = mid + 1 } else { hi = mid }
            }
        }
        if lo == chunks.count { return (end, false) }
        return chunks[lo].withUnsafeBufferPointer { records in
            var l = 0, h = records.count
            var found = false
            while l < h {
                let m = (l + h) >> 1
                let rp = records[m].prefix
                var c = rp.order(kp)
                if c == 0 {
                    c = rp.decidedByLength(kp) ? rp.length - kp.length : compareBytes(records[m].key, key)
                }
                if c < 0 { l = m + 1 } else { h = m; if c == 0 { found = true } }
            }
            return (TablePosition(chunk: lo, index: l), found)
        }
    }

    /// The position after `p`.
    @inlinable func next(_ p: TablePosition) -> TablePosition {
        if p.index + 1 < chunks[p.chunk].count { return TablePosition(chunk: p.chunk, index: p.index + 1) }
        return TablePosition(chunk: p.chunk + 1, index: 0)
    }

    @inlinable subscript(p: TablePosition) -> KeyRecord {
        get { chunks[p.chunk][p.index] }
        _modify { yield &chunks[p.chunk][p.index] }
    }

    /// Inserts `record` at `p` (which must keep the order). Splits a chunk that grows past 128 records.
    @inlinable mutating func insert(_ record: KeyRecord, at p: TablePosition) {
        count += 1
        if chunks.isEmpty {
            chunks.append([record]); chunks[0].reserveCapacity(Self.maxChunk + 1); fences = [record.prefix]
            return
        }
        var c = p.chunk, i = p.index
        if c == chunks.count { c -= 1; i = chunks[c].count }
        chunks[c].append(record)
        Self.rotateLastInto(&chunks[c], at: i)
        if chunks[c].count > Self.maxChunk {
            let half = chunks[c].count / 2
            var tail: [KeyRecord] = []
            tail.reserveCapacity(Self.maxChunk + 1)
            tail.append(contentsOf: chunks[c][half...])
            chunks[c].removeSubrange(half...)
            chunks.insert(tail, at: c + 1)
            fences.insert(tail[tail.count - 1].prefix, at: c + 1)
        }
        fences[c] = chunks[c][chunks[c].count - 1].prefix
    }

    /// Moves the last record of `chunk` to index `i`, shifting the ones after `i` up by one (a memmove: no
    /// retain/release, no generic Array.insert with its runtime metadata lookups). O(chunk count).
    @inlinable static func rotateLastInto(_ chunk: inout [KeyRecord], at i: Int) {
        chunk.withUnsafeMutableBufferPointer { b in
            let n = b.count
            guard i < n - 1, let base = b.baseAddress else { return }
            let last = (base + n - 1).move()
            (base + i + 1).moveInitialize(from: base + i, count: n - 1 - i)
            (base + i).initialize(to: last)
        }
    }

    /// Removes the record at `p`; returns the position of the record that followed it.
    @inlinable @discardableResult mutating func remove(at p: TablePosition) -> TablePosition {
        count -= 1
        chunks[p.chunk].remove(at: p.index)
        if chunks[p.chunk].isEmpty {
            chunks.remove(at: p.chunk)
            fences.remove(at: p.chunk)
            return TablePosition(chunk: p.chunk, index: 0)
        }
        fences[p.chunk] = chunks[p.chunk][chunks[p.chunk].count - 1].prefix
        if p.index < chunks[p.chunk].count { return p }
        return TablePosition(chunk: p.chunk + 1, index: 0)
    }
}
