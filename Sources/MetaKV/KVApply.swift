// Apply semantics of etcd 3.4's applierV3backend over its mvcc store (spec sections 6-8): put, delete_range,
// txn (compares up front, checks on the chosen path, then the ops in one write at revision R + 1), range
// ops, compaction, lease grant and revoke. Every command either succeeds whole or changes nothing.

extension KVStore {
    /// Applies a plain put (no lease, no prev_kv, no ignore flags; KVPlainPut.swift) of the key whose bytes are
    /// `key`: what `apply(.put(...))` does for it, at the next revision.
    mutating func applyPlainPut(key: UnsafeRawBufferPointer, value: [UInt8]) -> KVResult {
        let rev = revision + 1
        put(keyBytes: key, value: value, lease: 0, rev: rev)
        revision = rev
        return .success(.put(PutResponse(revision: rev, prevKV: nil)))
    }

    /// Applies one validated request. `time` is the entry-carried time (recorded by lease grants).
    mutating func apply(_ request: KVRequest, options: KVOptions, time: Int64) -> KVResult {
        switch request {
        case .put(let p):
            if p.lease != 0, leases[p.lease] == nil { return .failure(.leaseNotFound) }
            let rev = revision + 1
            guard let resp = put(p, rev: rev) else { return .failure(.keyNotFound) }
            revision = rev
            return .success(.put(resp))
        case .deleteRange(let d):
            let rev = revision + 1
            let (n, prev) = deleteRange(key: d.key, rangeEnd: d.rangeEnd, rev: rev, collect: d.prevKV)
            if n > 0 { revision = rev }
            return .success(.deleteRange(DeleteRangeResponse(revision: revision, deleted: Int64(n), prevKVs: prev)))
        case .txn(let t):
            return txn(t, options: options)
        case .range(let r):
            if let e = checkRangeRevision(r) { return .failure(e) }
            return .success(.range(rangeOp(r, headerRevision: revision, options: options)))
        case .compaction(let c):
            if c.revision <= compactRevision { return .failure(.compacted) }
            if c.revision > revision { return .failure(.futureRevision) }
            compact(to: c.revision)
            return .success(.compaction(revision: revision))
        case .leaseGrant(let g):
            if g.id == 0 { return .failure(.leaseNotFound) }  // lessor.Grant refuses NoLease
            if g.ttl > kvMaxLeaseTTL { return .failure(.leaseTTLTooLarge) }
            if leases[g.id] != nil { return .failure(.leaseExists) }
            let ttl = max(g.ttl, options.minLeaseTTL)
            leases[g.id] = KVLease(id: g.id, ttl: ttl, grantedAt: time, keys: [])
            return .success(.leaseGrant(revision: revision, id: g.id, ttl: ttl))
        case .leaseRevoke(let r):
            guard leases[r.id] != nil else { return .failure(.leaseNotFound) }
            let keys = leaseKeys(r.id)
            let rev = revision + 1
            var deleted = 0
            for k in keys { deleted += deleteRange(key: k, rangeEnd: nil, rev: rev, collect: false).0 }
            leases[r.id] = nil
            if deleted > 0 { revision = rev }
            return .success(.leaseRevoke(revision: revision))
        }
    }

    /// A put at `rev` (the caller checked the lease). Nil when ignore_value/ignore_lease finds no key.
    mutating func put(_ p: PutRequest, rev: Int64) -> PutResponse? {
        var value = p.value, lease = p.lease
        var prev: KeyValue?
        if p.ignoreValue || p.ignoreLease || p.prevKV {
            prev = get(p.key)
            if p.ignoreValue || p.ignoreLease {
                guard let old = prev else { return nil }
                if p.ignoreValue { value = old.value }
                if p.ignoreLease { lease = old.lease }
            }
        }
        put(key: p.key, value: value, lease: lease, rev: rev)
        return PutResponse(revision: rev, prevKV: p.prevKV ? prev : nil)
    }

    /// checkRequestRange for one range op: revision 0 reads the current view; otherwise it must lie in
    /// [compact revision, current revision].
    func checkRangeRevision(_ r: RangeRequest) -> KVError? {
        if r.revision == 0 { return nil }
        if r.revision > revision { return .futureRevision }
        if r.revision < compactRevision { return .compacted }
        return nil
    }

    /// A range op (spec 6.5) on the current view (revision <= 0) or at `r.revision`.
    func rangeOp(_ r: RangeRequest, headerRevision: Int64, options: KVOptions) -> RangeResponse {
        let at = r.revision <= 0 ? Int64.max : r.revision
        let filtered = r.minModRevision != 0 || r.maxModRevision != 0 || r.minCreateRevision != 0
            || r.maxCreateRevision != 0
        if r.rangeEnd == nil && !filtered {
            return singleKeyRangeOp(r, at: at, headerRevision: headerRevision, options: options)
        }
        let fetchAll = r.sortOrder != RangeRequest.SortOrder.none || filtered
        let fetch = fetchAll ? Int.max : (r.limit > 0 ? Int(clamping: r.limit) &+ 1 : Int.max)
        var kvs: [KeyValue] = []
        var count = 0
        let wantKVs = !r.countOnly
        if wantKVs && fetch != Int.max { kvs.reserveCapacity(fetch) }
        forEach(key: r.key, rangeEnd: r.rangeEnd, at: at) { k, v in
            count += 1
            if wantKVs && kvs.count < fetch { kvs.append(KeyValue(k, v)) }
            return true
        }
        if r.countOnly { return RangeResponse(revision: headerRevision, kvs: [], more: false, count: Int64(count)) }
        if filtered {
            kvs.removeAll { kv in
                (r.maxModRevision != 0 && kv.modRevision > r.maxModRevision)
                    || (r.minModRevision != 0 && kv.modRevision < r.minModRevision)
                    || (r.maxCreateRevision != 0 && kv.createRevision > r.maxCreateRevision)
                    || (r.minCreateRevision != 0 && kv.createRevision < r.minCreateRevision)
            }
        }
        var order = r.sortOrder
        if r.sortTarget != RangeRequest.SortTarget.key && order == RangeRequest.SortOrder.none {
            order = RangeRequest.SortOrder.ascend
        }
        if order == RangeRequest.SortOrder.ascend || order == RangeRequest.SortOrder.descend {
            kvs = Self.sorted(kvs, target: r.sortTarget, descending: order == RangeRequest.SortOrder.descend)
        }
        var more = false
        if r.limit > 0 && kvs.count > r.limit { kvs.removeSubrange(Int(r.limit)...); more = true }
        if let cap = options.maxScanLimit, kvs.count > cap { kvs.removeSubrange(max(cap, 0)...); more = true }
        if r.keysOnly { for i in kvs.indices { kvs[i].value = [] } }
        return RangeResponse(revision: headerRevision, kvs: kvs, more: more, count: Int64(count))
    }

    /// `rangeOp` for one key (no range_end) without revision filters: one hash lookup, no scan, no sort
    /// (a single result is in every order, and a limit >= 1 never cuts it). Same response as the general path.
    @inline(__always)
    func singleKeyRangeOp(_ r: RangeRequest, at: Int64, headerRevision: Int64, options: KVOptions) -> RangeResponse {
        guard let s = index.slot(r.key, slab), let v = slab[s].visible(at: at, history) else {
            return RangeResponse(revision: headerRevision, kvs: [], more: false, count: 0)
        }
        if r.countOnly { return RangeResponse(revision: headerRevision, kvs: [], more: false, count: 1) }
        if let cap = options.maxScanLimit, cap < 1 {
            return RangeResponse(revision: headerRevision, kvs: [], more: true, count: 1)
        }
        var kv = KeyValue(r.key, v)
        if r.keysOnly { kv.value = [] }
        return RangeResponse(revision: headerRevision, kvs: [kv], more: false, count: 1)
    }

    /// Go's sort.Sort on at most 6 elements (and any input without ties) equals a stable sort of the
    /// key-ordered input: ties keep key order, for DESCEND too (spec 6.5). Unknown targets leave the order.
    static func sorted(_ kvs: [KeyValue], target: Int32, descending: Bool) -> [KeyValue] {
        typealias T = RangeRequest.SortTarget
        guard kvs.count > 1, (0...4).contains(target) else { return kvs }
        if target == T.key { return descending ? kvs.reversed() : kvs }
        func cmp(_ a: KeyValue, _ b: KeyValue) -> Int {
            switch target {
            case T.version: return a.version < b.version ? -1 : (a.version == b.version ? 0 : 1)
            case T.create: return a.createRevision < b.createRevision ? -1 : (a.createRevision == b.createRevision ? 0 : 1)
            case T.mod: return a.modRevision < b.modRevision ? -1 : (a.modRevision == b.modRevision ? 0 : 1)
            default: return compareBytes(a.value, b.value)
            }
        }
        let order = kvs.indices.sorted { i, j in
            let c = cmp(kvs[i], kvs[j])
            if c != 0 { return descending ? c > 0 : c < 0 }
            return i < j
        }
        return order.map { kvs[$0] }
    }
}
