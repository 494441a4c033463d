// The MVCC state of etcd's v3 store (spec sections 3, 7, 8): revision counter, compaction point, every key's
// versions back to the compaction point, and the leases with their attached keys. A value type; copies are
// O(1) and share storage (see KeyTable for what the first write after a copy costs).

/// A lease: granted TTL, the entry time it was granted at, and the keys attached to it.
public struct KVLease: Equatable, Sendable {
    /// Lease id (never 0).
    public var id: Int64
    /// Granted TTL in seconds (requests below the minimum are raised to it).
    public var ttl: Int64
    /// Entry-carried time (nanoseconds) of the grant; 0 when entries carry no time.
    public var grantedAt: Int64
    /// Attached keys (unordered; ``KVStore/leaseKeys(_:)`` sorts them).
    public var keys: Set<[UInt8]>
}

/// Which keys a `key`/`range_end` pair selects (spec 6.3).
@usableFromInline enum KeySpan {
    /// `range_end` absent: the one key.
    case single
    /// `range_end` "\0" or present and empty: every key >= key.
    case from
    /// `[key, range_end)` (empty when range_end <= key).
    case interval

    @inlinable init(_ rangeEnd: [UInt8]?) {
        guard let e = rangeEnd else { self = .single; return }
        if e.isEmpty || (e.count == 1 && e[0] == 0) { self = .from } else { self = .interval }
    }
}

/// The whole key-value state. Reads never copy keys or values: results share their storage.
public struct KVStore: Sendable {
    /// The current main revision (1 on a fresh store).
    public internal(set) var revision: Int64 = 1
    /// The last compaction's revision (-1: never compacted).
    public internal(set) var compactRevision: Int64 = -1
    @usableFromInline var table = KeyTable()
    @usableFromInline var slab = VersionSlab()
    @usableFromInline var index = HashIndex()
    /// Every key's older versions (KVHistory.swift).
    @usableFromInline var history = VersionHistory()
    /// Live leases by id.
    public internal(set) var leases: [Int64: KVLease] = [:]
    /// Live keys (not tombstoned).
    public internal(set) var liveKeyCount = 0

    /// A fresh store: revision 1, no keys, no leases, never compacted.
    public init() {}

    // MARK: reads

    /// Calls `body` for every key of the range whose version at `rev` is live, in key order, until it
    /// returns false. `rev` = `Int64.max` reads the current state. A single key is found through the hash
    /// index; a range costs O(log n + keys visited).
    @inlinable func forEach(key: [UInt8], rangeEnd: [UInt8]?, at rev: Int64,
                            _ body: ([UInt8], KVVersion) -> Bool) {
        let span = KeySpan(rangeEnd)
        if span == .single {
            if let s = index.slot(key, slab), let v = slab[s].visible(at: rev, history) { _ = body(key, v) }
            return
        }
        key.withUnsafeBytes { k in
            var p = table.lowerBound(k).0
            let end: [UInt8]? = span == .interval ? rangeEnd : nil
            (end ?? []).withUnsafeBytes { eb in
                let ep = KeyPrefix(eb)
                while p.chunk < table.chunks.count {
                    let stop: Bool = table.chunks[p.chunk].withUnsafeBufferPointer { records in
                        var i = p.index
                        while i < records.count {
                            if end != nil {
                                let rp = records[i].prefix
                                var c = rp.order(ep)
                                if c == 0 { c = rp.decidedByLength(ep) ? rp.length - ep.length : compareBytes(records[i].key, eb) }
                                if c >= 0 { return true }
                            }
                            if let v = slab[records[i].slot].visible(at: rev, history), !body(records[i].key, v) { return true }
                            i += 1
                        }
                        return false
                    }
                    if stop { return }
                    p = TablePosition(chunk: p.chunk + 1, index: 0)
                }
            }
        }
    }

    /// The key-value of `key` in the current state, or nil. O(1) expected (hash index); the value is
    /// shared, not copied.
    public func get(_ key: [UInt8]) -> KeyValue? { get(key, at: Int64.max) }

    /// The key-value of `key` as it was at revision `rev` (no compaction check: see
    /// ``KVStateMachine/range(_:)``), or nil.
    public func get(_ key: [UInt8], at rev: Int64) -> KeyValue? {
        guard let s = index.slot(key, slab), let v = slab[s].visible(at: rev, history) else { return nil }
        return KeyValue(key, v)
    }

    /// Live keys of the range at `rev` (`Int64.max`: current). O(log n + keys in the range).
    public func count(key: [UInt8], rangeEnd: [UInt8]?, at rev: Int64 = Int64.max) -> Int {
        var n = 0
        forEach(key: key, rangeEnd: rangeEnd, at: rev) { _, _ in n += 1; return true }
        return n
    }

    /// The attached keys of lease `id`, sorted bytewise (empty if there is no such lease).
    public func leaseKeys(_ id: Int64) -> [[UInt8]] {
        guard let l = leases[id] else { return [] }
        return l.keys.sorted { compareBytes($0, $1) < 0 }
    }

    /// Every live key-value in key order (current state). O(n).
    public func allKeyValues() -> [KeyValue] {
        var out: [KeyValue] = []
        out.reserveCapacity(liveKeyCount)
        forEach(key: [0], rangeEnd: [0], at: Int64.max) { k, v in out.append(KeyValue(k, v)); return true }
        return out
    }

    // MARK: writes (no checks: the applier validated everything before calling these)

    /// Writes `value` under `key` at revision `rev`, attaches it to `lease` (0: none). Builds no result
    /// (callers that want the previous key-value read it first). O(1) expected for an existing key; a new
    /// key adds the sorted insert.
    @usableFromInline mutating func put(key: [UInt8], value: [UInt8], lease: Int64, rev: Int64) {
        if let found = index.find(key, slab) {
            overwrite(found, value: value, lease: lease, rev: rev)
        } else {
            insert(key: key, value: value, lease: lease, rev: rev)
        }
    }

    /// `put(key:value:lease:rev:)` for a key given as bytes: an existing key's bytes are never copied
    /// (the stored key array serves the lease sets); only a new key gets its own array.
    @usableFromInline mutating func put(keyBytes: UnsafeRawBufferPointer, value: [UInt8], lease: Int64, rev: Int64) {
        if let found = index.find(keyBytes, slab) {
            overwrite(found, value: value, lease: lease, rev: rev)
        } else {
            insert(key: [UInt8](keyBytes), value: value, lease: lease, rev: rev)
        }
    }

    /// A put of the existing key at (`slot`, `shard`, `entry`): the latest version moves to the history.
    @usableFromInline mutating func overwrite(_ found: (slot: UInt32, shard: Int, entry: Int), value: [UInt8], lease: Int64,
                                             rev: Int64) {
        let s = found.slot
        // The old version's fields are read in place and the version itself is moved, not copied, into the
        // history: a copy would retain its value, a write to that value's header, which is rarely in cache.
        let live = !slab[s].latest.isTombstone
        let oldLease = live ? slab[s].latest.lease : 0
        var version = KVVersion(
            modRevision: rev, createRevision: live ? slab[s].latest.createRevision : rev,
            version: live ? slab[s].latest.version + 1 : 1, lease: lease, value: value)
        swap(&version, &slab[s].latest)
        slab[s].history = history.push(consume version, prev: slab[s].history)
        index.setHint(shard: found.shard, entry: found.entry, value)
        if oldLease != lease {
            let key = slab[s].key
            if oldLease != 0 { leases[oldLease]?.keys.remove(key) }
            if lease != 0 { leases[lease]?.keys.insert(key) }
        }
        if !live { liveKeyCount += 1 }
    }

    /// A put of a key the store does not hold: a slot, an index entry and a place in the sorted table.
    @usableFromInline mutating func insert(key: [UInt8], value: [UInt8], lease: Int64, rev: Int64) {
        let v = KVVersion(modRevision: rev, createRevision: rev, version: 1, lease: lease, value: value)
        let s = slab.allocate(KeyVersions(key: key, latest: v))
        index.insert(key, s, slab, value: value)
        let p = key.withUnsafeBytes { table.lowerBound($0).0 }
        table.insert(KeyRecord(key: key, slot: s), at: p)
        liveKeyCount += 1
        if lease != 0 { leases[lease]?.keys.insert(key) }
    }

    /// Deletes every live key of the range at revision `rev` (tombstones), detaching them from their leases.
    /// Returns how many were deleted and, if `collect`, their key-values before the delete.
    @usableFromInline mutating func deleteRange(key: [UInt8], rangeEnd: [UInt8]?, rev: Int64, collect: Bool)
        -> (Int, [KeyValue])
    {
        var victims: [([UInt8], UInt32)] = []
        forEachSlot(key: key, rangeEnd: rangeEnd) { k, s in
            if !slab[s].latest.isTombstone { victims.append((k, s)) }
        }
        var prev: [KeyValue] = []
        for (k, s) in victims {
            let old = slab[s].latest
            if collect { prev.append(KeyValue(k, old)) }
            if old.lease != 0 { leases[old.lease]?.keys.remove(k) }
            slab[s].history = history.push(old, prev: slab[s].history)
            slab[s].latest = KVVersion(modRevision: rev, createRevision: 0, version: 0, lease: 0, value: [])
        }
        liveKeyCount -= victims.count
        return (victims.count, prev)
    }

    /// Every key of the range with its slot, live or not, in key order.
    func forEachSlot(key: [UInt8], rangeEnd: [UInt8]?, _ body: ([UInt8], UInt32) -> Void) {
        let span = KeySpan(rangeEnd)
        if span == .single {
            if let s = index.slot(key, slab) { body(key, s) }
            return
        }
        var p = key.withUnsafeBytes { table.lowerBound($0).0 }
        while p.chunk < table.chunks.count {
            let r = table[p]
            if span == .interval, let e = rangeEnd, compareBytes(r.key, e) >= 0 { break }
            body(r.key, r.slot)
            p = table.next(p)
        }
    }

    /// Drops history not needed for reads at revisions >= `rev` and sets the compaction point: for each key,
    /// the newest version at or below `rev` is kept (unless it is a tombstone) and everything older goes; a
    /// key left with only such a tombstone goes entirely. O(keys + versions walked); when dropped versions
    /// make up over a quarter of the arena, it is rebuilt (O(versions kept)) to give their memory back.
    @usableFromInline mutating func compact(to rev: Int64) {
        compactRevision = rev
        var p = TablePosition(chunk: 0, index: 0)
        while p.chunk < table.chunks.count {
            let r = table[p]
            let latest = slab[r.slot].latest
            let head = slab[r.slot].history
            if latest.modRevision <= rev {
                history.garbage += history.length(head)
                if latest.isTombstone {
                    // Only a tombstone at or below rev is left: the key goes.
                    index.remove(r.key, r.slot)
                    slab.release(r.slot)
                    p = table.remove(at: p)
                    continue
                }
                slab[r.slot].history = 0
                p = table.next(p)
                continue
            }
            // The newest older version at or below rev, and the node before it in the chain (newer).
            var newer = 0
            var h = head
            while h != 0 && history[h].version.modRevision > rev { newer = h; h = history[h].prev }
            if h != 0 {
                let keep = !history[h].version.isTombstone
                let cut = keep ? history[h].prev : h  // the first dropped node
                if cut != 0 {
                    history.garbage += history.length(cut)
                    if keep {
                        history[h].prev = 0
                    } else if newer == 0 {
                        slab[r.slot].history = 0
                    } else {
                        history[newer].prev = 0
                    }
                }
            }
            p = table.next(p)
        }
        if history.garbage * 4 > history.count { rebuildHistory() }
    }

    /// Copies every key's reachable older versions into a fresh arena (dropping the garbage). O(versions).
    @usableFromInline mutating func rebuildHistory() {
        var fresh = VersionHistory()
        var scratch: [Int] = []
        for chunk in table.chunks {
            for r in chunk {
                var head = 0
                history.forEachOldestFirst(slab[r.slot].history, scratch: &scratch) { v in
                    head = fresh.push(v, prev: head)
                }
                slab[r.slot].history = head
            }
        }
        history = fresh
    }
}

extension KeyValue {
    @inlinable init(_ key: [UInt8], _ v: KVVersion) {
        self.init(key: key, createRevision: v.createRevision, modRevision: v.modRevision, version: v.version,
                  value: v.value, lease: v.lease)
    }
}
