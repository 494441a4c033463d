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
    /// Live leases by id.
    public internal(set) var leases: [Int64: KVLease] = [:]
    /// Live keys (not tombstoned).
    public internal(set) var liveKeyCount = 0

    /// A fresh store: revision 1, no keys, no leases, never compacted.
    public init() {}

    // MARK: reads

    /// Calls `body` for every key of the range whose version at `rev` is live, in key order, until it
    /// returns false. `rev` = `Int64.max` reads the current state. O(log n + keys visited).
    @inlinable func forEach(key: [UInt8], rangeEnd: [UInt8]?, at rev: Int64,
                            _ body: ([UInt8], KVVersion) -> Bool) {
        let span = KeySpan(rangeEnd)
        key.withUnsafeBytes { k in
            let (start, found) = table.lowerBound(k)
            if span == .single {
                if found { table.chunks[start.chunk].withUnsafeBufferPointer { rs in if let v = rs[start.index].visible(at: rev) { _ = body(rs[start.index].key, v) } } }
                return
            }
            var p = start
            if span == .interval, let e = rangeEnd {
                e.withUnsafeBytes { eb in
                    let ep = KeyPrefix(eb)
                    while p.chunk < table.chunks.count {
                        let stop: Bool = table.chunks[p.chunk].withUnsafeBufferPointer { records in
                            var i = p.index
                            while i < records.count {
                                let rp = records[i].prefix
                                var c = rp.order(ep)
                                if c == 0 { c = rp.decidedByLength(ep) ? rp.length - ep.length : compareBytes(records[i].key, eb) }
                                if c >= 0 { return true }
                                if let v = records[i].visible(at: rev), !body(records[i].key, v) { return true }
                                i += 1
                            }
                            return false
                        }
                        if stop { return }
                        p = TablePosition(chunk: p.chunk + 1, index: 0)
                    }
                }
            } else {
                while p.chunk < table.chunks.count {
                    let stop: Bool = table.chunks[p.chunk].withUnsafeBufferPointer { records in
                        var i = p.index
                        while i < records.count {
                            if let v = records[i].visible(at: rev), !body(records[i].key, v) { return true }
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

    /// The key-value of `key` in the current state, or nil. O(log n); the value is shared, not copied.
    public func get(_ key: [UInt8]) -> KeyValue? { get(key, at: Int64.max) }

    /// The key-value of `key` as it was at revision `rev` (no compaction check: see ``range(_:)``), or nil.
    public func get(_ key: [UInt8], at rev: Int64) -> KeyValue? {
        var out: KeyValue?
        forEach(key: key, rangeEnd: nil, at: rev) { k, v in out = KeyValue(k, v); return false }
        return out
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

    /// Writes `value` under `key` at revision `rev`, attaches it to `lease` (0: none). Returns the key's
    /// previous live key-value. O(log n) plus the chunk insert for a new key.
    @usableFromInline mutating func put(key: [UInt8], value: [UInt8], lease: Int64, rev: Int64) -> KeyValue? {
        let (p, found) = key.withUnsafeBytes { table.lowerBound($0) }
        if found {
            var previous: KeyValue?
            var oldLease: Int64 = 0
            var storedKey: [UInt8] = []
            do {
                let r = table[p]
                storedKey = r.key
                if !r.latest.isTombstone { previous = KeyValue(r.key, r.latest); oldLease = r.latest.lease }
            }
            let newVersion = KVVersion(
                modRevision: rev, createRevision: previous?.createRevision ?? rev,
                version: (previous?.version ?? 0) + 1, lease: lease, value: value)
            table.chunks[p.chunk][p.index].older.append(table.chunks[p.chunk][p.index].latest)
            table.chunks[p.chunk][p.index].latest = newVersion
            if previous == nil { liveKeyCount += 1 }
            if oldLease != lease {
                if oldLease != 0 { leases[oldLease]?.keys.remove(storedKey) }
                if lease != 0 { leases[lease]?.keys.insert(storedKey) }
            }
            return previous
        }
        let v = KVVersion(modRevision: rev, createRevision: rev, version: 1, lease: lease, value: value)
        table.insert(KeyRecord(key: key, latest: v, older: []), at: p)
        liveKeyCount += 1
        if lease != 0 { leases[lease]?.keys.insert(key) }
        return nil
    }

    /// Deletes every live key of the range at revision `rev` (tombstones), detaching them from their leases.
    /// Returns how many were deleted and, if `collect`, their key-values before the delete.
    @usableFromInline mutating func deleteRange(key: [UInt8], rangeEnd: [UInt8]?, rev: Int64, collect: Bool)
        -> (Int, [KeyValue])
    {
        var victims: [TablePosition] = []
        var prev: [KeyValue] = []
        let span = KeySpan(rangeEnd)
        key.withUnsafeBytes { k in
            var (p, found) = table.lowerBound(k)
            if span == .single {
                if found, !table[p].latest.isTombstone { victims.append(p) }
                return
            }
            while p.chunk < table.chunks.count {
                let r = table[p]
                if span == .interval, let e = rangeEnd, compareBytes(r.key, e) >= 0 { break }
                if !r.latest.isTombstone { victims.append(p) }
                p = table.next(p)
            }
        }
        for p in victims {
            let old = table[p].latest
            if collect { prev.append(KeyValue(table[p].key, old)) }
            if old.lease != 0 { leases[old.lease]?.keys.remove(table[p].key) }
            table.chunks[p.chunk][p.index].older.append(old)
            table.chunks[p.chunk][p.index].latest = KVVersion(modRevision: rev, createRevision: 0, version: 0,
                                                              lease: 0, value: [])
        }
        liveKeyCount -= victims.count
        return (victims.count, prev)
    }

    /// Drops history not needed for reads at revisions >= `rev` and sets the compaction point. O(keys).
    @usableFromInline mutating func compact(to rev: Int64) {
        compactRevision = rev
        var p = TablePosition(chunk: 0, index: 0)
        while p.chunk < table.chunks.count {
            let r = table[p]
            // Newest version at or below `rev`: older versions below it are never read again.
            var keepFrom: Int  // index into [older..., latest]; latest has index older.count
            let all = r.older.count + 1
            if r.latest.modRevision <= rev {
                keepFrom = all - 1
            } else {
                keepFrom = -1
                var i = r.older.count - 1
                while i >= 0 { if r.older[i].modRevision <= rev { keepFrom = i; break }; i -= 1 }
            }
            if keepFrom < 0 { p = table.next(p); continue }  // everything is newer than rev
            let keepVersion = keepFrom == all - 1 ? r.latest : r.older[keepFrom]
            let dropThrough = keepVersion.isTombstone ? keepFrom : keepFrom - 1  // drop indexes 0...dropThrough
            if dropThrough < 0 { p = table.next(p); continue }
            if dropThrough >= all - 1 {
                p = table.remove(at: p)  // only a tombstone at or below rev was left
                continue
            }
            table.chunks[p.chunk][p.index].older.removeSubrange(0...dropThrough)
            p = table.next(p)
        }
    }
}

extension KeyValue {
    @inlinable init(_ key: [UInt8], _ v: KVVersion) {
        self.init(key: key, createRevision: v.createRevision, modRevision: v.modRevision, version: v.version,
                  value: v.value, lease: v.lease)
    }
}
