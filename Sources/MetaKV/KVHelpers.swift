// Request builders for the patterns our users run on etcd (issue 10's seeds). Each builds the request a
// client would send; the host proposes it (encoded with InternalRaftRequest) and reads the answer.

/// Key-range helpers (clientv3's conventions).
public enum KVKeys {
    /// The range end that selects every key starting with `prefix` (clientv3's GetPrefixRangeEnd): the
    /// prefix with its last byte below 0xff incremented and the rest dropped; "\0" (every key >= prefix)
    /// when the prefix is all 0xff bytes or empty.
    public static func prefixEnd(_ prefix: [UInt8]) -> [UInt8] {
        var end = prefix
        while let last = end.last {
            if last < 0xff { end[end.count - 1] = last + 1; return end }
            end.removeLast()
        }
        return [0]
    }
}

/// Zookeeper-style node operations with CAS on the key's version (version 0 = absent).
public enum KVZooKeeper {
    /// Add (create if absent): put `value` when the key does not exist, else read it. The txn succeeds iff
    /// the node was created; on failure its response holds the existing node.
    public static func add(_ key: [UInt8], _ value: [UInt8], lease: Int64 = 0) -> TxnRequest {
        TxnRequest(compare: [Compare(result: Compare.Result.equal, target: Compare.Target.create, key: key,
                                     operand: .createRevision(0))],
                   success: [.put(PutRequest(key: key, value: value, lease: lease))],
                   failure: [.range(RangeRequest(key: key))])
    }

    /// Set: put `value` if the node's version is `expectedVersion` (nil: unconditionally, but only if it
    /// exists). Succeeds iff written; on failure the response holds the node as it is (none if absent).
    public static func set(_ key: [UInt8], _ value: [UInt8], expectedVersion: Int64? = nil) -> TxnRequest {
        let cmp = expectedVersion.map {
            Compare(result: Compare.Result.equal, target: Compare.Target.version, key: key, operand: .version($0))
        } ?? Compare(result: Compare.Result.greater, target: Compare.Target.version, key: key, operand: .version(0))
        return TxnRequest(compare: [cmp], success: [.put(PutRequest(key: key, value: value, ignoreLease: true))],
                          failure: [.range(RangeRequest(key: key))])
    }

    /// Delete: remove the node if its version is `expectedVersion` (nil: whatever it is). Succeeds iff the
    /// compare held; the delete response's `deleted` says whether a node was removed.
    public static func delete(_ key: [UInt8], expectedVersion: Int64? = nil) -> TxnRequest {
        let cmps = expectedVersion.map {
            [Compare(result: Compare.Result.equal, target: Compare.Target.version, key: key, operand: .version($0))]
        } ?? []
        return TxnRequest(compare: cmps, success: [.deleteRange(DeleteRangeRequest(key: key, prevKV: true))],
                          failure: [.range(RangeRequest(key: key))])
    }

    /// Get: the node (read with ``KVStateMachine/range(_:)`` or as a read-only txn).
    public static func get(_ key: [UInt8]) -> RangeRequest { RangeRequest(key: key) }
}

/// An ID allocator that reserves blocks of `step` ids with a compare-and-put on a decimal counter key
/// (CeresMeta's alloc_id pattern): the counter holds the first id not yet handed out.
public struct KVIDAllocator: Sendable, Equatable {
    /// The counter key.
    public var key: [UInt8]
    /// Ids per block (> 0).
    public var step: UInt64

    /// An allocator over `key` handing out `step` ids at a time.
    public init(key: [UInt8], step: UInt64) { self.key = key; self.step = max(step, 1) }

    /// The counter's value in `current` (nil or unparsable: 0).
    public func counter(_ current: KeyValue?) -> UInt64 {
        guard let v = current?.value, let n = UInt64(String(decoding: v, as: UTF8.self)) else { return 0 }
        return n
    }

    /// The txn reserving the next block after reading the counter as `current` (nil: absent): it succeeds
    /// iff nobody moved the counter since (value equal, or still absent), and then puts `old + step`.
    /// On failure, read the counter again and retry. Returns nil when the counter would overflow.
    public func reserve(after current: KeyValue?) -> TxnRequest? {
        let old = counter(current)
        let (next, overflow) = old.addingReportingOverflow(step)
        if overflow { return nil }
        let cmp: Compare = current.map {
            Compare(result: Compare.Result.equal, target: Compare.Target.value, key: key, operand: .value($0.value))
        } ?? Compare(result: Compare.Result.equal, target: Compare.Target.create, key: key, operand: .createRevision(0))
        return TxnRequest(compare: [cmp], success: [.put(PutRequest(key: key, value: Array(String(next).utf8)))],
                          failure: [.range(RangeRequest(key: key))])
    }

    /// The ids a successful ``reserve(after:)`` built from `current` handed out: `old ..< old + step`.
    public func block(after current: KeyValue?) -> Range<UInt64> {
        let old = counter(current)
        return old..<(old &+ step)
    }
}

/// Instance status records that expire with a lease: register grants the lease and puts the status under
/// it; updates keep the lease; when the host proposes the revoke of an expired lease
/// (``KVStateMachine/expiredLeases(at:)``), the record goes.
public enum KVInstanceStatus {
    /// Registration: grant `lease` for `ttl` seconds, then put `status` under `key` attached to it.
    public static func register(_ key: [UInt8], status: [UInt8], lease: Int64, ttl: Int64) -> [KVRequest] {
        [.leaseGrant(LeaseGrantRequest(ttl: ttl, id: lease)), .put(PutRequest(key: key, value: status, lease: lease))]
    }

    /// A status update that keeps the key's lease (fails with `key not found` once the record expired).
    public static func update(_ key: [UInt8], status: [UInt8]) -> KVRequest {
        .put(PutRequest(key: key, value: status, ignoreLease: true))
    }

    /// Deregistration: revoke the lease (deletes every key attached to it in one revision).
    public static func deregister(lease: Int64) -> KVRequest { .leaseRevoke(LeaseRevokeRequest(id: lease)) }
}

/// A hash stored as one key per field under `prefix` + "/".
public struct KVHash: Sendable, Equatable {
    /// The keys' common prefix, including the separator.
    public var prefix: [UInt8]

    /// A hash named `name`: fields live under `name` + "/".
    public init(name: [UInt8]) { prefix = name + [UInt8(ascii: "/")] }

    /// The key of `field`.
    public func key(_ field: [UInt8]) -> [UInt8] { prefix + field }
    /// Set a field.
    public func set(_ field: [UInt8], _ value: [UInt8]) -> PutRequest { PutRequest(key: key(field), value: value) }
    /// Read a field.
    public func get(_ field: [UInt8]) -> RangeRequest { RangeRequest(key: key(field)) }
    /// Read every field (key order).
    public func getAll() -> RangeRequest { RangeRequest(key: prefix, rangeEnd: KVKeys.prefixEnd(prefix)) }
    /// Delete a field.
    public func delete(_ field: [UInt8]) -> DeleteRangeRequest { DeleteRangeRequest(key: key(field)) }
    /// Delete every field in one revision.
    public func deleteAll() -> DeleteRangeRequest { DeleteRangeRequest(key: prefix, rangeEnd: KVKeys.prefixEnd(prefix)) }
    /// The (field, value) pairs of a ``getAll()`` answer.
    public func fields(_ r: RangeResponse) -> [(field: [UInt8], value: [UInt8])] {
        r.kvs.filter { $0.key.starts(with: prefix) }.map { (Array($0.key.dropFirst(prefix.count)), $0.value) }
    }
}

/// etcd's auto-compaction, driven by entry-carried time: the host calls ``observe(revision:time:)`` after
/// applying entries and proposes what ``proposal(now:)`` returns.
///
/// - `revision(retain: R)`: keep the last R revisions (etcd `--auto-compaction-mode=revision`): propose a
///   compaction at `current - R` once per `checkInterval` (etcd: 5 minutes) when that is newer than the last.
/// - `periodic(retention: P)`: keep P nanoseconds of history (etcd `--auto-compaction-mode=periodic`):
///   revisions are sampled as time passes, and the compaction proposed is at the newest revision observed
///   at least P before `now`, at most once per P/10 (etcd 3.4 checks every P/10 for P <= 1 hour, hourly
///   beyond).
public struct KVAutoCompactor: Sendable {
    /// The two etcd modes.
    public enum Mode: Sendable, Equatable {
        case revision(retain: Int64)
        case periodic(retentionNanos: Int64)
    }
    /// The mode.
    public let mode: Mode
    /// How often a proposal may be made (nanoseconds).
    public let checkInterval: Int64
    var samples: [(time: Int64, revision: Int64)] = []
    var lastProposalTime: Int64? = nil
    var lastCompacted: Int64 = 0
    var currentRevision: Int64 = 1

    /// A compactor in `mode`; `checkInterval` defaults to etcd's (5 min for revision mode; P/10, at most an
    /// hour, for periodic mode).
    public init(mode: Mode, checkInterval: Int64? = nil) {
        self.mode = mode
        switch mode {
        case .revision: self.checkInterval = checkInterval ?? 300_000_000_000
        case .periodic(let p): self.checkInterval = checkInterval ?? min(max(p / 10, 1), 3_600_000_000_000)
        }
    }

    /// Records that the store was at `revision` at entry time `time` (nanoseconds, non-decreasing).
    public mutating func observe(revision: Int64, time: Int64) {
        currentRevision = revision
        if case .periodic = mode {
            if let last = samples.last, time - last.time < checkInterval { return }
            samples.append((time, revision))
        }
    }

    /// The compaction to propose at `now`, or nil. Marks it proposed (the next comes a check interval later).
    public mutating func proposal(now: Int64) -> CompactionRequest? {
        if let last = lastProposalTime, now - last < checkInterval { return nil }
        let target: Int64
        switch mode {
        case .revision(let retain):
            target = currentRevision - retain
        case .periodic(let p):
            guard let i = samples.lastIndex(where: { now - $0.time >= p }) else { return nil }
            target = samples[i].revision
            samples.removeFirst(i)
        }
        guard target > lastCompacted, target > 0 else { return nil }
        lastProposalTime = now
        lastCompacted = target
        return CompactionRequest(revision: target)
    }
}
