// Point access for the MVCC store: a slab of every key's versions addressed by a stable slot, and a hash
// index from key to slot. Puts and gets of existing keys go key -> bucket -> versions in a few cache misses,
// without the sorted table's binary searches. Both are sharded into copy-on-write arrays, so copying the
// store is O(1) and the first write after a copy copies one shard array (1,024 references) and one shard
// (or one 1,024-slot slab chunk), never the whole index.

import CPrefetch

/// Key -> slot: 1,024 open-addressing tables (linear probing) chosen by the top bits of a 64-bit hash of the
/// key. An entry is two UInt64s: 22 bits of the hash as a tag with the slot + 1 (0 = empty, all ones =
/// deleted), then a hint: the address of the key's latest value bytes when it was written. A hit compares
/// the key stored with the slot's versions. A lookup touches the bucket, the slab record and the value; the
/// hint lets the value's cache lines load while the record's do (a prefetch, which never faults, so a
/// stale hint only costs a wasted line), instead of after them.
@usableFromInline struct HashIndex: Sendable {
    @usableFromInline static let shardCount = 1024
    @usableFromInline static let deleted = UInt64.max
    /// Per shard: entries as (tag | slot + 1, hint) pairs; the pair count is a power of two.
    @usableFromInline var shards: [[UInt64]] = Array(repeating: [], count: shardCount)
    /// Occupied entries (live or deleted) per shard.
    @usableFromInline var used: [Int32] = Array(repeating: 0, count: shardCount)
    /// Pairs per shard (`shards[s].count / 2`): kept apart so that a lookup reads its shard's size from
    /// this 4 KiB array, which stays in cache, and not from the shard's own header line.
    @usableFromInline var capacities: [UInt32] = Array(repeating: 0, count: shardCount)

    @usableFromInline init() {}

    /// A 64-bit hash of the key's bytes (8-byte words, multiply-xorshift, murmur's finalizer).
    @inlinable static func hash(_ b: UnsafeRawBufferPointer) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(b.count)
        var i = 0
        while i + 8 <= b.count {
            h = (h ^ b.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < b.count { tail |= UInt64(b[i]) << shift; shift += 8; i += 1 }
        h = (h ^ tail) &* 0x94D0_49BB_1331_11EB
        h ^= h >> 33
        h = h &* 0xFF51_AFD7_ED55_8CCD
        h ^= h >> 33
        return h
    }

    @inlinable static func shard(_ h: UInt64) -> Int { Int(truncatingIfNeeded: h >> 54) }
    @inlinable static func tag(_ h: UInt64) -> UInt64 { (h >> 32) & 0x3F_FFFF }

    /// The hint for `value`: the address of its first byte (0 for an empty value).
    @inlinable static func hint(_ value: [UInt8]) -> UInt64 {
        value.isEmpty ? 0 : value.withUnsafeBufferPointer { UInt64(UInt(bitPattern: $0.baseAddress)) }
    }

    /// Prefetches the lines of a value of up to 192 bytes from its hint: the array header in front of
    /// the bytes (a reader retains it) and the bytes.
    @inlinable static func prefetch(_ hint: UInt64) {
        guard hint != 0, let p = UnsafeRawPointer(bitPattern: UInt(truncatingIfNeeded: hint)) else { return }
        cprefetch_read(p - 16)
        cprefetch_read(p + 48)
        cprefetch_read(p + 112)
    }

    /// Where `key` is: its slot and its entry (shard, pair index), or nil.
    @inlinable func find(_ key: [UInt8], _ slab: VersionSlab) -> (slot: UInt32, shard: Int, entry: Int)? {
        key.withUnsafeBytes { find($0, slab) }
    }

    /// Where the key whose bytes are `k` is (as `find` of an array key).
    @inlinable func find(_ k: UnsafeRawBufferPointer, _ slab: VersionSlab) -> (slot: UInt32, shard: Int, entry: Int)? {
        let h = Self.hash(k)
        let t = Self.tag(h)
        let kp = KeyPrefix(k)
        let sh = Self.shard(h)
        let capacity = Int(capacities[sh])
        if capacity == 0 { return nil }
        return shards[sh].withUnsafeBufferPointer { buffer -> (UInt32, Int, Int)? in
            // `capacities[sh] * 2 == buffer.count` (grow keeps them together): read through the base
            // address, so the buffer's count is never loaded.
            guard let e = buffer.baseAddress else { return nil }
            let mask = capacity - 1
            var i = Int(truncatingIfNeeded: h) & mask
            while true {
                let x = e[2 * i]
                if x == 0 { return nil }
                if x != Self.deleted && x >> 32 == t {
                    Self.prefetch(e[2 * i + 1])
                    let s = UInt32(truncatingIfNeeded: x) &- 1
                    if slab[s].hasKey(k, kp) { return (s, sh, i) }
                }
                i = (i + 1) & mask
            }
        }
    }

    /// The slot of `key`, or nil.
    @inlinable func slot(_ key: [UInt8], _ slab: VersionSlab) -> UInt32? { find(key, slab)?.slot }

    /// Records that the key at entry (`shard`, `entry`) now has `value` as its latest value.
    @inlinable mutating func setHint(shard: Int, entry: Int, _ value: [UInt8]) {
        shards[shard][2 * entry + 1] = Self.hint(value)
    }

    /// Adds `key` -> `slot` (the key must be absent) with its latest value's hint. Grows a shard past 3/4
    /// full.
    @inlinable mutating func insert(_ key: [UInt8], _ slot: UInt32, _ slab: VersionSlab, value: [UInt8]) {
        let h = key.withUnsafeBytes { Self.hash($0) }
        let s = Self.shard(h)
        if (Int(used[s]) + 1) * 4 > shards[s].count / 2 * 3 { grow(s, slab) }
        Self.place(&shards[s], h, slot, Self.hint(value))
        used[s] += 1
    }

    @inlinable static func place(_ e: inout [UInt64], _ h: UInt64, _ slot: UInt32, _ hint: UInt64) {
        let mask = e.count / 2 - 1
        var i = Int(truncatingIfNeeded: h) & mask
        while e[2 * i] != 0 { i = (i + 1) & mask }
        e[2 * i] = tag(h) << 32 | UInt64(slot &+ 1)
        e[2 * i + 1] = hint
    }

    /// Rebuilds shard `s` at twice its live size (dropping deleted entries).
    @usableFromInline mutating func grow(_ s: Int, _ slab: VersionSlab) {
        let old = shards[s]
        var live = 0
        for i in stride(from: 0, to: old.count, by: 2) where old[i] != 0 && old[i] != Self.deleted { live += 1 }
        var cap = 16
        while cap * 3 < (live + 1) * 4 * 2 { cap *= 2 }
        var e = [UInt64](repeating: 0, count: 2 * cap)
        for i in stride(from: 0, to: old.count, by: 2) where old[i] != 0 && old[i] != Self.deleted {
            let slot = UInt32(truncatingIfNeeded: old[i]) &- 1
            Self.place(&e, slab[slot].key.withUnsafeBytes { Self.hash($0) }, slot, old[i + 1])
        }
        shards[s] = e
        used[s] = Int32(live)
        capacities[s] = UInt32(cap)
    }

    /// Removes `key` (which maps to `slot`).
    @usableFromInline mutating func remove(_ key: [UInt8], _ slot: UInt32) {
        let h = key.withUnsafeBytes { Self.hash($0) }
        let s = Self.shard(h)
        let mask = shards[s].count / 2 - 1
        guard mask >= 0 else { return }
        var i = Int(truncatingIfNeeded: h) & mask
        while shards[s][2 * i] != 0 {
            if shards[s][2 * i] != Self.deleted && UInt32(truncatingIfNeeded: shards[s][2 * i]) &- 1 == slot {
                shards[s][2 * i] = Self.deleted
                shards[s][2 * i + 1] = 0
                return
            }
            i = (i + 1) & mask
        }
    }
}

/// Every key's versions, by slot; freed slots are reused.
@usableFromInline struct VersionSlab: Sendable {
    @usableFromInline static let chunkShift = 10
    @usableFromInline static let chunkMask: UInt32 = 1023
    @usableFromInline var chunks: [[KeyVersions]] = []
    @usableFromInline var free: [UInt32] = []

    @usableFromInline init() {}

    @inlinable subscript(slot: UInt32) -> KeyVersions {
        // `_read`, not `get`: reading one field (`slab[s].key`) borrows the record in place instead of
        // copying it (a copy retains and releases its key, value and history arrays).
        _read { yield chunks[Int(slot >> UInt32(Self.chunkShift))][Int(slot & Self.chunkMask)] }
        _modify { yield &chunks[Int(slot >> UInt32(Self.chunkShift))][Int(slot & Self.chunkMask)] }
    }

    /// Stores `v` in a free slot (or a new one) and returns the slot.
    @inlinable mutating func allocate(_ v: KeyVersions) -> UInt32 {
        if let s = free.popLast() { self[s] = v; return s }
        if chunks.isEmpty || chunks[chunks.count - 1].count == Int(Self.chunkMask) + 1 {
            chunks.append([])
            chunks[chunks.count - 1].reserveCapacity(Int(Self.chunkMask) + 1)
        }
        let c = chunks.count - 1
        chunks[c].append(v)
        return UInt32(c << Self.chunkShift) | UInt32(chunks[c].count - 1)
    }

    /// Frees `slot` (its versions are dropped).
    mutating func release(_ slot: UInt32) {
        self[slot] = KeyVersions(key: [], latest: KVVersion(modRevision: 0, createRevision: 0, version: 0, lease: 0, value: []))
        free.append(slot)
    }
}
