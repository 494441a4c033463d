// etcd's checks before the log (spec section 4: v3rpc/key.go checkPutRequest, checkDeleteRequest,
// checkRangeRequest, checkTxnRequest, checkIntervals). A command that fails them changes nothing.

/// The limits a deployment configures, enforced with etcd's errors.
public struct KVOptions: Equatable, Sendable {
    /// etcd's `--max-txn-ops` (default 128): compares, success ops or failure ops per txn (per list).
    public var maxTxnOps: Int = 128
    /// etcd's `--max-request-bytes` (default 1.5 MiB): an encoded request longer than this is refused with
    /// `etcdserver: request is too large` (read-only txns are exempt, as in etcd).
    public var maxRequestBytes: Int = 1_572_864
    /// CeresMeta's max-scan-limit: a range returns at most this many keys (then `more` is true); nil = no cap.
    /// Not an etcd option: with nil (the default) answers are etcd's.
    public var maxScanLimit: Int? = nil
    /// The minimum lease TTL in seconds (etcd: ceil(1.5 x election timeout) = 2 with the defaults).
    public var minLeaseTTL: Int64 = 2
    /// Entries carry the leader's clock: an 8-byte little-endian nanosecond time before the
    /// InternalRaftRequest (see ``KVStateMachine/stamp(_:time:)``). Lease grants record it, so
    /// ``KVStateMachine/expiredLeases(at:)`` can compute deadlines. Off: entries are etcd's bare requests.
    public var leaderStampedEntries = false

    /// etcd 3.4's defaults.
    public init() {}
}

/// etcd's MaxLeaseTTL (lease/lessor.go).
public let kvMaxLeaseTTL: Int64 = 9_000_000_000

enum KVValidation {
    static func checkPut(_ p: PutRequest) throws(KVError) {
        if p.key.isEmpty { throw .keyNotProvided }
        if p.ignoreValue && !p.value.isEmpty { throw .valueProvided }
        if p.ignoreLease && p.lease != 0 { throw .leaseProvided }
    }

    static func checkTxn(_ t: TxnRequest, maxOps: Int) throws(KVError) {
        let opc = max(t.compare.count, t.success.count, t.failure.count)
        if opc > maxOps { throw .tooManyOps }
        for c in t.compare where c.key.isEmpty { throw .keyNotProvided }
        for op in t.success { try checkOp(op, maxOps: maxOps - opc) }
        for op in t.failure { try checkOp(op, maxOps: maxOps - opc) }
    }

    static func checkOp(_ op: RequestOp, maxOps: Int) throws(KVError) {
        switch op {
        case .range(let r): if r.key.isEmpty { throw .keyNotProvided }
        case .put(let p): try checkPut(p)
        case .deleteRange(let d): if d.key.isEmpty { throw .keyNotProvided }
        case .txn(let t): try checkTxn(t, maxOps: maxOps)
        case .none: throw .keyNotFound
        }
    }

    /// A deleted interval: `[lo, hi)`, or the single key `lo` when `hi` is nil.
    struct Interval {
        var lo: [UInt8]
        var hi: [UInt8]?
        func holds(_ k: [UInt8]) -> Bool {
            guard let hi else { return k == lo }
            return compareBytes(lo, k) <= 0 && compareBytes(k, hi) < 0
        }
    }

    /// checkIntervals (spec 4, step 4): the keys a branch puts and the intervals it deletes, or
    /// `.duplicateKey`.
    static func checkIntervals(_ ops: [RequestOp]) throws(KVError) -> (Set<[UInt8]>, [Interval]) {
        var dels: [Interval] = []
        for op in ops {
            if case .deleteRange(let d) = op {
                dels.append(Interval(lo: d.key, hi: (d.rangeEnd?.isEmpty ?? true) ? nil : d.rangeEnd))
            }
        }
        var puts = Set<[UInt8]>()
        func deleted(_ k: [UInt8], _ dels: [Interval]) -> Bool { dels.contains { $0.holds(k) } }
        for op in ops {
            guard case .txn(let t) = op else { continue }
            let (putsThen, delsThen) = try checkIntervals(t.success)
            let (putsElse, delsElse) = try checkIntervals(t.failure)
            for k in putsThen {
                if puts.contains(k) || deleted(k, dels) { throw .duplicateKey }
                puts.insert(k)
            }
            for k in putsElse {
                if puts.contains(k) && !putsThen.contains(k) { throw .duplicateKey }
                if deleted(k, dels) { throw .duplicateKey }
                puts.insert(k)
            }
            dels += delsThen
            dels += delsElse
        }
        for op in ops {
            guard case .put(let p) = op else { continue }
            if puts.contains(p.key) || deleted(p.key, dels) { throw .duplicateKey }
            puts.insert(p.key)
        }
        return (puts, dels)
    }

    /// etcd's isTxnReadonly: every op of both branches is a range.
    static func isReadOnly(_ t: TxnRequest) -> Bool {
        for op in t.success { guard case .range = op else { return false } }
        for op in t.failure { guard case .range = op else { return false } }
        return true
    }

    /// Every check etcd makes before proposing `request` (encoded in `encodedSize` bytes).
    static func check(_ request: KVRequest, encodedSize: Int, options: KVOptions) throws(KVError) {
        switch request {
        case .put(let p):
            try checkPut(p)
        case .deleteRange(let d):
            if d.key.isEmpty { throw .keyNotProvided }
        case .range(let r):
            if r.key.isEmpty { throw .keyNotProvided }
            return
        case .txn(let t):
            try checkTxn(t, maxOps: options.maxTxnOps)
            _ = try checkIntervals(t.success)
            _ = try checkIntervals(t.failure)
            if isReadOnly(t) { return }
        case .compaction, .leaseGrant, .leaseRevoke:
            break
        }
        if encodedSize > options.maxRequestBytes { throw .requestTooLarge }
    }
}
