// Point access for the MVCC store: a slab of every key's versions addressed by a stable slot, and a hash
// index from key to slot. Puts and gets of existing keys go key -> slot -> versions in a few cache misses,
// without the sorted table's binary searches. Both are sharded into copy-on-write arrays, so copying the
// store is O(1) and the first write after a copy copies one shard array (1,024 references) and one shard
// (or one 1,024-slot slab chunk), never the whole index.

/// A key as a hash-map key: hashed and compared as raw bytes (one `combine(bytes:)`, one memcmp).
@usableFromInline struct HashKey: Hashable, Sendable {
    @usableFromInline var bytes: [UInt8]
    @inlinable init(_ bytes: [UInt8]) { self.bytes = bytes }
    @inlinable func hash(into h: inout Hasher) { bytes.withUnsafeBytes { h.combine(bytes: $0) } }
    @inlinable static func == (a: HashKey, b: HashKey) -> Bool { compareBytes(a.bytes, b.bytes) == 0 }
}

/// Key -> slot, in 1,024 shards chosen by an FNV-1a hash of the key.
@usableFromInline struct HashIndex: Sendable {
    @usableFromInline static let shardCount = 1024
    @usableFromInline var shards: [[HashKey: UInt32]] = Array(repeating: [:], count: shardCount)

    @usableFromInline init() {}

    @inlinable static func shard(_ key: [UInt8]) -> Int {
        key.withUnsafeBytes { b in
            var h: UInt32 = 2_166_136_261
            for x in b { h = (h ^ UInt32(x)) &* 16_777_619 }
            return Int((h ^ (h >> 16)) & UInt32(shardCount - 1))
        }
    }

    @inlinable func slot(_ key: [UInt8]) -> UInt32? { shards[Self.shard(key)][HashKey(key)] }
    @inlinable mutating func set(_ key: [UInt8], _ slot: UInt32) { shards[Self.shard(key)][HashKey(key)] = slot }
    @inlinable mutating func remove(_ key: [UInt8]) { shards[Self.shard(key)][HashKey(key)] = nil }
}

/// Every key's versions, by slot; freed slots are reused.
@usableFromInline struct VersionSlab: Sendable {
    @usableFromInline static let chunkShift = 10
    @usableFromInline static let chunkMask: UInt32 = 1023
    @usableFromInline var chunks: [[KeyVersions]] = []
    @usableFromInline var free: [UInt32] = []

    @usableFromInline init() {}

    @inlinable subscript(slot: UInt32) -> KeyVersions {
        get { chunks[Int(slot >> UInt32(Self.chunkShift))][Int(slot & Self.chunkMask)] }
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
        self[slot] = KeyVersions(latest: KVVersion(modRevision: 0, createRevision: 0, version: 0, lease: 0, value: []), older: [])
        free.append(slot)
    }
}
